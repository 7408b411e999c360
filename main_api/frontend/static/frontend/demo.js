/**
 * The demo page: uploads with per-file progress (XMLHttpRequest), the gallery (newest first) kept
 * live from the page's one event stream, and the card actions (logo background, delete after a
 * "Delete? Yes / Cancel" step) through the API; a failed card's Retry is its <smart-image>'s.
 * An upload refused at the gate stays as an error card until dismissed.
 * Without JavaScript the page still shows everything and the card forms post to the server.
 */
import { api, configure, uploadEvents } from "./smart-image.js";

const form = document.getElementById("upload-form");
const gallery = document.getElementById("gallery");
const template = document.getElementById("card-template");
const empty = document.getElementById("gallery-empty");
const csrf = form.dataset.csrf;
configure({ csrfToken: csrf });
let uploading = 0;

const cardOf = (id) => gallery.querySelector(`.card[data-upload-id="${id}"]`);
const CARD_SIZE = (dataType) => (dataType === "logo" ? "small" : "grid");

/** The size as Django's filesizeformat writes it (the page's hint): "5.0 MB", "800.0 KB". */
function fileSize(bytes) {
  const units = [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]];
  const [unit, size] = units.find(([, s]) => bytes >= s) || [];
  return unit ? `${(bytes / size).toFixed(1)} ${unit}` : `${bytes} bytes`;
}

/** Why the API refused an upload, in the page's words where it can tell by status and extra. */
function refusal(xhr) {
  const body = xhr.response || {};
  const limit = body.extra && body.extra.max_bytes;
  if (xhr.status === 413 && typeof limit === "number") return `This file is larger than the limit of ${fileSize(limit)}.`;
  return body.message || (xhr.status ? `HTTP ${xhr.status}` : "the network failed");
}

/** "Same file as beach.jpg": the card of a duplicate names the upload it repeats. */
function duplicateNote(upload) {
  if (upload.duplicate_of == null) return "";
  const original = cardOf(upload.duplicate_of);
  const name = original ? original.querySelector(".card-file").textContent : `upload ${upload.duplicate_of}`;
  return `Same file as ${name}`;
}

/** Shows the upload's state on its card: which actions apply, the logo toggle's state. */
function updateCard(card, upload) {
  card.classList.toggle("card-logo", upload.data_type === "logo");
  card.querySelector(".card-file").textContent = upload.original_name;
  card.querySelector(".card-field").textContent = upload.field || upload.data_type;
  const note = card.querySelector(".card-note");
  note.textContent = duplicateNote(upload);
  note.hidden = !note.textContent;
  const action = (name) => card.querySelector(`[data-action="${name}"]`);
  action("retry").hidden = true; // the component shows its own Retry (this form is for a page without JavaScript)
  action("delete").hidden = false;
  const toggle = action("background");
  toggle.hidden = upload.data_type !== "logo";
  const removed = upload.background === "removed";
  toggle.querySelector('input[name="background"]').value = removed ? "original" : "removed";
  toggle.querySelector("button").setAttribute("aria-pressed", String(removed));
  for (const f of card.querySelectorAll("form[data-action]")) f.action = `/uploads/${upload.id}/${f.dataset.action}`;
}

/** Points the profile slot of the upload's field at it (a newer upload replaces the older). */
function updateSlot(upload) {
  const slot = document.querySelector(`.slot[data-field="${upload.field}"] smart-image`);
  if (!slot || upload.status === "failed") return;
  if (Number(slot.getAttribute("upload-id") || 0) <= upload.id) {
    if (slot.getAttribute("upload-id") !== String(upload.id)) slot.setAttribute("upload-id", upload.id);
    const figure = slot.closest(".slot");
    figure.querySelector("figcaption").textContent = figure.dataset.label;
  }
}

function newCard(fileName, field) {
  const card = template.content.firstElementChild.cloneNode(true);
  card.querySelector(".card-file").textContent = fileName;
  card.querySelector(".card-field").textContent = field;
  card.querySelector("smart-image").setAttribute("size", CARD_SIZE(field === "logo_image" ? "logo" : ""));
  card.classList.toggle("card-logo", field === "logo_image");
  for (const input of card.querySelectorAll('input[name="csrfmiddlewaretoken"]')) input.value = csrf;
  gallery.prepend(card);
  return card;
}

/** PATCH /users/me with one file, showing its progress on a new card. */
function uploadFile(file, field) {
  const card = newCard(file.name, field);
  const progress = card.querySelector(".card-progress");
  const frame = card.querySelector(".si-frame");
  const status = document.createElement("p");
  status.className = "si-status";
  status.setAttribute("role", "status");
  status.textContent = "Uploading…";
  frame.append(status);
  const body = new FormData();
  body.append(field, file);
  const xhr = new XMLHttpRequest();
  xhr.open("PATCH", "/users/me");
  xhr.setRequestHeader("X-CSRFToken", csrf);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (e) => {
    if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
  });
  uploading += 1;
  xhr.addEventListener("loadend", () => {
    uploading -= 1;
    progress.value = 100;
    progress.classList.add("done");
    if (xhr.status !== 200) {
      status.textContent = `Upload refused: ${refusal(xhr)}`;
      status.setAttribute("role", "alert");
      card.classList.add("card-refused");
      card.querySelector('[data-action="delete"]').hidden = true;
      card.querySelector(".dismiss").hidden = false;
      return;
    }
    const ours = (xhr.response.pending_images || []).filter((p) => p.field === field).sort((a, b) => b.id - a.id)[0];
    if (!ours) { status.textContent = "Uploaded."; return; }
    if (cardOf(ours.id)) { card.remove(); return; } // the stream made its card first
    card.dataset.uploadId = ours.id;
    const image = card.querySelector("smart-image");
    image.setAttribute("upload-id", ours.id);
    updateSlot({ id: ours.id, field, status: ours.status });
  });
  xhr.send(body);
}

function uploadFiles(files) {
  const field = document.getElementById("upload-field").value;
  for (const file of files) uploadFile(file, field);
}

const input = document.getElementById("upload-file");
input.addEventListener("change", () => {
  uploadFiles([...input.files]);
  input.value = "";
});
form.addEventListener("submit", (e) => e.preventDefault());
form.addEventListener("dragover", (e) => { e.preventDefault(); form.classList.add("over"); });
form.addEventListener("dragleave", () => form.classList.remove("over"));
form.addEventListener("drop", (e) => {
  e.preventDefault();
  form.classList.remove("over");
  uploadFiles([...e.dataTransfer.files]);
});

// every change of a card's component (its first load, each event, each action) updates the card
gallery.addEventListener("smart-image:change", (e) => {
  const card = e.target.closest(".card");
  if (card && e.detail) updateCard(card, e.detail);
});

// uploads made elsewhere (another tab, the API) join the gallery; the profile slots follow
// (not an artwork's image: it lives on /artworks, with its artwork, as the page served here shows)
uploadEvents.subscribe((upload) => {
  updateSlot(upload);
  if (upload.data_type === "artwork") return;
  if (cardOf(upload.id) || uploading > 0) return; // a card of ours gets its id when its upload answers
  const card = newCard(upload.original_name, upload.field || upload.data_type);
  card.dataset.uploadId = upload.id;
  card.querySelector(".card-progress").value = 100;
  card.querySelector("smart-image").setAttribute("size", CARD_SIZE(upload.data_type));
  card.querySelector("smart-image").setAttribute("upload-id", upload.id);
});

/** Delete's confirm step: "Delete?" with Yes and Cancel in the Delete button's place, or back. */
function askDelete(deleteForm, asking) {
  deleteForm.querySelector(".confirm-ask").hidden = asking;
  deleteForm.querySelector(".confirm").hidden = !asking;
  deleteForm.closest(".card").classList.toggle("card-confirming", asking);
  deleteForm.querySelector(asking ? ".confirm-cancel" : ".confirm-ask").focus();
}

gallery.addEventListener("click", (e) => {
  const cancel = e.target.closest(".confirm-cancel");
  if (cancel) askDelete(cancel.closest("form"), false);
  const dismiss = e.target.closest(".dismiss");
  if (dismiss) dismiss.closest(".card").remove();
});
gallery.addEventListener("keydown", (e) => {
  const confirm = e.key === "Escape" && e.target.closest(".confirm");
  if (confirm) askDelete(confirm.closest("form"), false);
});

// the empty state, whenever the last card goes or the first comes
new MutationObserver(() => { empty.hidden = gallery.children.length > 0; }).observe(gallery, { childList: true });

// the card forms, through the API (the same forms post to the server without JavaScript)
gallery.addEventListener("submit", async (e) => {
  const actionForm = e.target.closest("form[data-action]");
  if (!actionForm) return;
  e.preventDefault();
  if (actionForm.dataset.action === "delete" && e.submitter?.classList.contains("confirm-ask")) {
    askDelete(actionForm, true);
    return;
  }
  const card = actionForm.closest(".card");
  const id = card.dataset.uploadId;
  const image = card.querySelector("smart-image");
  const button = e.submitter || actionForm.querySelector("button");
  button.disabled = true;
  try {
    if (actionForm.dataset.action === "delete") {
      await api(`/api/uploads/${id}`, { method: "DELETE" });
      for (const slot of document.querySelectorAll(`.slot smart-image[upload-id="${id}"]`)) slot.removeAttribute("upload-id");
      card.remove();
      return;
    }
    const background = actionForm.querySelector('input[name="background"]').value;
    image.upload = await api(`/api/uploads/${id}`, { method: "PATCH", body: { background } });
  } catch (error) {
    card.querySelector(".card-name").title = error.message;
  } finally {
    button.disabled = false;
  }
});
