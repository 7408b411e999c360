"""How an upload's bytes come in: ``multipart`` (a form's files, counted as they stream),
``gate`` (the upload gate every file passes), ``temp_storage`` (where originals wait for the
media VM: local or S3), ``direct_uploads`` (a file sent straight to the temp storage) and
``url_import`` (a file fetched from a URL)."""
