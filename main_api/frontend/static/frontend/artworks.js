/**
 * The artworks page: an artwork created by direct upload (POST /api/artworks/upload-url, the file
 * PUT to the signed URL or POSTed to the bucket as `method` says, then POST /api/artworks), the
 * API's message shown when it refuses; each card kept live by its <smart-image> (the page's one
 * event stream: the thumbnail, then the display) and its status read again once the image is
 * done; hide, unhide and delete through the API. Without JavaScript the list and its forms work.
 */
import { api, configure } from "./smart-image.js";

const form = document.getElementById("artwork-form");
const list = document.getElementById("artworks");
const template = document.getElementById("artwork-card-template");
const message = document.getElementById("artwork-message");
const progress = document.getElementById("artwork-progress");
const csrf = form.dataset.csrf;
configure({ csrfToken: csrf });

const STATUS_TEXT = { processing: "Processing", active: "Active", hidden: "Hidden", failed: "Failed" };

const TYPES_BY_EXTENSION = { jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", gif: "image/gif",
  avif: "image/avif", heic: "image/heif", heif: "image/heif", tif: "image/tiff", tiff: "image/tiff" };

/** The file's media type as the browser says it, or from its extension when it says nothing
 * (some pickers give a .heic no type); the server judges the bytes anyway. */
function fileType(file) {
  return file.type || TYPES_BY_EXTENSION[file.name.split(".").pop().toLowerCase()] || "application/octet-stream";
}

function say(text, isError = false) {
  message.textContent = text;
  message.classList.toggle("error", isError);
}

/** The API's refusal in words: its message, and for a validation error each field's first complaint. */
function describe(error) {
  const fields = error.extra?.fields || {};
  const details = Object.entries(fields).map(([name, problems]) => `${name}: ${[].concat(problems)[0]}`);
  for (const name of Object.keys(fields)) form.elements[name]?.setAttribute("aria-invalid", "true");
  return details.length ? `${error.message} (${details.join("; ")})` : error.message;
}

/** Shows an artwork (the object of GET /api/artworks/{id}) on its card. */
function showCard(card, artwork) {
  card.dataset.artworkId = artwork.id;
  card.dataset.uploadId = artwork.upload.id;
  card.dataset.status = artwork.status;
  card.dataset.hidden = String(artwork.hidden);
  card.querySelector(".artwork-title").textContent = artwork.title;
  card.querySelector(".artwork-category").textContent = artwork.category;
  const status = card.querySelector(".artwork-status");
  status.textContent = STATUS_TEXT[artwork.status] || artwork.status;
  status.className = `artwork-status status-${artwork.status}`;
  const link = card.querySelector(".artwork-link");
  link.href = `${list.dataset.publicBase}/${encodeURIComponent(artwork.slug)}`;
  link.hidden = artwork.status !== "active";
  const visibility = card.querySelector('form[data-action="visibility"]');
  visibility.action = `/artworks/${artwork.id}/${artwork.hidden ? "unhide" : "hide"}`;
  visibility.querySelector("button").textContent = artwork.hidden ? "Unhide" : "Hide";
  card.querySelector('form[data-action="delete"]').action = `/artworks/${artwork.id}/delete`;
  const image = card.querySelector("smart-image");
  image.setAttribute("alt", artwork.title);
  if (image.getAttribute("upload-id") !== String(artwork.upload.id)) image.setAttribute("upload-id", artwork.upload.id);
}

function addCard(artwork) {
  const card = template.content.firstElementChild.cloneNode(true);
  for (const input of card.querySelectorAll('input[name="csrfmiddlewaretoken"]')) input.value = csrf;
  list.prepend(card); // newest first, as the server lists them
  showCard(card, artwork);
  document.getElementById("no-artworks").hidden = true;
}

/** Sends the file where POST /api/artworks/upload-url said, with its progress on the bar. */
function sendFile(target, file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.method, target.upload_url);
    let body = file;
    if (target.method === "PUT") {
      xhr.setRequestHeader("Content-Type", fileType(file));
    } else { // a bucket's presigned POST: every field first, the file last
      body = new FormData();
      for (const [name, value] of Object.entries(target.fields || {})) body.append(name, value);
      body.append("file", file);
    }
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.addEventListener("loadend", () => {
      if (xhr.status >= 200 && xhr.status < 300) { resolve(); return; }
      let text = xhr.status ? `The upload was refused (${xhr.status}).` : "The upload failed: network error.";
      try { text = JSON.parse(xhr.responseText).message || text; } catch { /* a bucket answers XML */ }
      reject(new Error(text));
    });
    xhr.send(body);
  });
}

/** The form's fields as POST /api/artworks takes them. */
function fields() {
  const value = (name) => form.elements[name].value.trim();
  const body = {
    title: value("title"), category: value("category"), description: value("description"),
    materials: value("materials"), dimensions: value("dimensions"), created_date: value("created_date") || null,
    tags: value("tags").split(",").map((t) => t.trim()).filter(Boolean),
  };
  if (value("source_tool")) body.source_tool = value("source_tool");
  return body;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = form.elements.file.files[0];
  const button = form.querySelector('button[type="submit"]');
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  button.disabled = true;
  progress.value = 0;
  progress.hidden = false;
  try {
    say(`Uploading ${file.name}…`);
    const target = await api("/api/artworks/upload-url", {
      method: "POST", body: { filename: file.name, content_type: fileType(file), size: file.size },
    });
    await sendFile(target, file);
    say("Creating the artwork…");
    const artwork = await api("/api/artworks", { method: "POST", body: { key: target.key, ...fields() } });
    addCard(artwork);
    form.reset();
    say(`“${artwork.title}” is created; its image is being processed.`);
  } catch (error) {
    say(describe(error), true);
  } finally {
    button.disabled = false;
    progress.hidden = true;
  }
});

/** The artwork's status as the card's upload now implies it (selectors.artwork_status). */
function statusOf(upload, card) {
  if (upload.status === "failed") return "failed";
  if (card.dataset.hidden === "true") return "hidden";
  return upload.stage === "processed" ? "active" : "processing";
}

// every change of a card's image (its first load, each event of the stream): once it implies
// another status (processed, failed, retried), the artwork is read again for its status and slug
list.addEventListener("smart-image:change", async (e) => {
  const card = e.target.closest(".artwork-card");
  if (!card || !e.detail || statusOf(e.detail, card) === card.dataset.status) return;
  try {
    showCard(card, await api(`/api/artworks/${card.dataset.artworkId}`));
  } catch (error) {
    if (error.status === 404) card.remove(); // deleted elsewhere
  }
});

// hide, unhide and delete through the API (the same forms post to the server without JavaScript)
list.addEventListener("submit", async (e) => {
  const actionForm = e.target.closest("form[data-action]");
  if (!actionForm) return;
  e.preventDefault();
  const card = actionForm.closest(".artwork-card");
  const id = card.dataset.artworkId;
  const title = card.querySelector(".artwork-title").textContent;
  const button = actionForm.querySelector("button");
  if (actionForm.dataset.action === "delete" && !window.confirm(`Delete “${title}” and its image?`)) return;
  button.disabled = true;
  try {
    if (actionForm.dataset.action === "delete") {
      await api(`/api/artworks/${id}`, { method: "DELETE" });
      card.remove();
      document.getElementById("no-artworks").hidden = list.children.length > 0;
      return;
    }
    const hidden = card.dataset.hidden !== "true";
    showCard(card, await api(`/api/artworks/${id}`, { method: "PATCH", body: { hidden } }));
  } catch (error) {
    say(error.message, true);
  } finally {
    button.disabled = false;
  }
});
