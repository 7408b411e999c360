"""No models. The module exists so that Django sends this app ``post_migrate``
(:func:`main_api.common.apps.cache_tables_create` makes the database cache's table there)."""
