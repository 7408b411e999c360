/**
 * <smart-image>: an image of the oaf-media API as a standards-based web component.
 * Plain JavaScript (an ES module), no build step, no framework; served by the main API.
 *
 *   <script type="module" src="/static/frontend/smart-image.js"></script>
 *   <smart-image upload-id="42" size="detail" sizes="(min-width: 800px) 50vw, 100vw" show-analysis></smart-image>
 *   <smart-image media-id="0123456789abcdef0123456789abcdef" size="grid" alt="A painting"></smart-image>
 *
 * Attributes:
 *   upload-id      one of the signed-in user's uploads (GET /api/uploads/{id}): real variant sizes,
 *                  placeholder, live status over the page's one event stream, retry when it failed
 *   media-id       any public image: the standard sizes of /api/images with their known boxes
 *   size           thumbnail | grid | small | detail (default) | header | zoom; an artwork's icon | display
 *   sizes          the <img sizes> (default 100vw)
 *   loading        lazy (default) | eager
 *   alt            the text alternative (default: from the analysis, else the file name)
 *   background     removed | original: a logo's background (default: the upload's own choice)
 *   show-analysis  show the analysis (style, medium, quality, mood, colours, brand colours)
 *   token          an API token; without one the session cookie is used (same origin).
 *                  configure({token}) or window.smartImageConfig = {token} sets it for every element.
 *
 * Events: "smart-image:change" (detail: the upload object) whenever the upload changes.
 */
import { thumbHashToDataURL } from "./thumbhash.js";

/** The standard sizes (shared/sizes.py): box and fit. */
export const SIZES = {
  thumbnail: { width: 300, height: 300, fit: "crop" },
  grid: { width: 500, height: 500, fit: "crop" },
  small: { width: 640, height: 640, fit: "inside" },
  detail: { width: 1200, height: 1200, fit: "inside" },
  header: { width: 1920, height: 640, fit: "crop" },
  zoom: { width: 2560, height: 2560, fit: "inside" },
};
/** The sizes only an artwork's image is made in (shared/outputs.toml); a preset output (normal, hq) is never shown. */
export const ARTWORK_SIZES = {
  icon: { width: 128, height: 128, fit: "crop" },
  display: { width: 1200, height: 1200, fit: "inside" },
};
const BOXES = { ...SIZES, ...ARTWORK_SIZES };
const MIME = { avif: "image/avif", webp: "image/webp", jpeg: "image/jpeg", png: "image/png" };
const STATE_OF_STAGE = {
  queued: "queued", retrieved: "processing", thumbnail_ready: "thumbnail", analysed: "thumbnail",
  variants_ready: "thumbnail", processed: "done", failed: "failed",
};
const STAGE_TEXT = {
  queued: "Queued", retrieved: "Processing…", thumbnail_ready: "Thumbnail ready, processing…",
  analysed: "Analysed, making sizes…", variants_ready: "Almost done…", processed: "Done", failed: "Failed",
};

/** Page-wide settings: token (else the session cookie), apiBase (default: this origin), csrfToken. */
export const config = Object.assign({ token: null, apiBase: "", csrfToken: null }, globalThis.smartImageConfig || {});

/** Change the page-wide settings (e.g. configure({token: "..."})). */
export function configure(options) {
  Object.assign(config, options);
}

function csrfToken() {
  if (config.csrfToken) return config.csrfToken;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Calls the API as the page's user: the token if there is one, else the session (with CSRF). */
export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { Accept: "application/json" };
  const key = token || config.token;
  if (key) headers.Authorization = `Token ${key}`;
  else if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(config.apiBase + path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `${method} ${path}: ${response.status}`);
    error.status = response.status;
    error.extra = data.extra || {};
    throw error;
  }
  return data;
}

/** The page's one event stream (GET /api/uploads/events), shared by every element. */
class UploadEvents {
  constructor() {
    this.listeners = new Set();
    this.source = null;
    this.opening = null;
    this.token = null;
  }

  /** Calls fn(upload) for every upload event of the user; returns the unsubscribe function.
   * token: an element's own token, used for the ticket when no page-wide one is configured. */
  subscribe(fn, token = null) {
    if (token && !this.token) this.token = token;
    this.listeners.add(fn);
    this.open();
    return () => this.listeners.delete(fn);
  }

  open() {
    if (this.source || this.opening) return;
    this.opening = (async () => {
      let url = `${config.apiBase}/api/uploads/events`;
      const token = config.token || this.token;
      if (token) {
        // an EventSource cannot send Authorization: a short-lived ticket, never the token, in the URL
        const { ticket } = await api("/api/uploads/events/ticket", { method: "POST", token });
        url += `?ticket=${encodeURIComponent(ticket)}`;
      }
      const source = new EventSource(url);
      source.addEventListener("upload", (event) => {
        const upload = JSON.parse(event.data);
        for (const fn of this.listeners) fn(upload);
      });
      source.addEventListener("error", () => {
        if (source.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
        this.source = null;
        setTimeout(() => this.open(), 2000); // closed for good (an expired ticket): a new one
      });
      this.source = source;
    })().catch(() => setTimeout(() => this.open(), 5000)).finally(() => { this.opening = null; });
  }
}

/** The shared stream: uploadEvents.subscribe(upload => ...). */
export const uploadEvents = new UploadEvents();

function withQuery(url, values) {
  const parsed = new URL(url, location.href);
  for (const [key, value] of Object.entries(values)) {
    if (value === null) parsed.searchParams.delete(key);
    else parsed.searchParams.set(key, value);
  }
  return parsed.origin === location.origin ? parsed.pathname + parsed.search : parsed.href;
}

function sizeFamily(name) {
  const size = BOXES[name];
  if (!size) return null; // a preset output: in no srcset
  return size.fit === "inside" ? "fit" : `crop:${(size.width / size.height).toFixed(3)}`;
}

/** The available size nearest in area to the wanted one (shared.sizes.nearest_size). */
function nearestSize(wanted, available) {
  if (available.includes(wanted)) return wanted;
  const area = BOXES[wanted].width * BOXES[wanted].height;
  const key = (name) => [Math.abs(BOXES[name].width * BOXES[name].height - area), -BOXES[name].width * BOXES[name].height];
  return [...available].sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1]; })[0];
}

/**
 * What <picture> shows for an upload object at a size (main_api/frontend/pictures.py does the same
 * on the server): sources, fallback src/srcset, width and height. Null while it has no variants.
 */
export function pictureData(upload, size = "detail", background = null) {
  const family = sizeFamily(size);
  const variants = (upload.variants || []).filter((v) => v.width && v.height && family && sizeFamily(v.size) === family);
  if (!variants.length) return null;
  const chosen = variants.find((v) => v.size === nearestSize(size, variants.map((v) => v.size)));
  const shown = background || upload.background;
  const transparent = Boolean(upload.analysis?.has_alpha) || (shown === "removed" && Boolean(upload.background_removed));
  const fallback = transparent ? "png" : "jpeg";
  const bg = background === "removed" ? "removed" : background === "original" ? null : undefined;
  const url = (v, format) => withQuery(v.url, bg === undefined ? { format } : { format, bg });
  const srcset = (format) => variants.filter((v) => (v.formats || []).includes(format)).map((v) => `${url(v, format)} ${v.width}w`).join(", ");
  return {
    sources: ["avif", "webp"].filter((f) => chosen.formats.includes(f)).map((f) => ({ type: MIME[f], srcset: srcset(f) })),
    src: url(chosen, fallback), srcset: srcset(fallback), width: chosen.width, height: chosen.height,
  };
}

/** The <picture> of a public image by media id: the standard sizes of one shape, their boxes as widths
 * (an artwork's icon or display alone: its other sizes would fall back to a crop). */
export function publicPictureData(mediaId, size = "detail", background = null) {
  const family = sizeFamily(size);
  const names = ARTWORK_SIZES[size] ? [size] : Object.keys(SIZES).filter((n) => sizeFamily(n) === family);
  const fallback = background === "removed" ? "png" : "jpeg";
  const url = (name, format) => `${config.apiBase}/api/images/${encodeURIComponent(mediaId)}?size=${name}&format=${format}${background === "removed" ? "&bg=removed" : ""}`;
  const srcset = (format) => names.map((n) => `${url(n, format)} ${BOXES[n].width}w`).join(", ");
  return {
    sources: ["avif", "webp"].map((f) => ({ type: MIME[f], srcset: srcset(f) })),
    src: url(size, fallback), srcset: srcset(fallback), width: BOXES[size].width, height: BOXES[size].height,
  };
}

/** A short text alternative from the analysis (pictures.alt_text on the server). */
export function altText(upload) {
  const a = upload.analysis || {};
  const text = (a.detected_text || "").trim();
  if (upload.data_type === "logo" && text) return `Logo: ${text.slice(0, 80)}`;
  const words = [a.subject_matter?.label, a.medium_detected].filter((w) => typeof w === "string" && w);
  if (words.length) { const s = words.join(", "); return s[0].toUpperCase() + s.slice(1); }
  return upload.original_name || "Uploaded image";
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function pictureElement(data, { sizes, loading, alt }) {
  const picture = el("picture");
  for (const source of data.sources) picture.append(el("source", { type: source.type, srcset: source.srcset, sizes }));
  picture.append(el("img", {
    src: data.src, srcset: data.srcset, sizes, width: data.width, height: data.height, alt, loading, decoding: "async",
  }));
  return picture;
}

function percent(value) {
  return typeof value === "number" ? `${Math.round(value)}` : "–";
}

/** The analysis panel: style, medium, subject, quality with its parts, mood, colours, brand colours. */
export function analysisElement(upload) {
  const details = el("details", { class: "si-analysis" }, el("summary", { text: "Analysis" }));
  const a = upload?.analysis;
  if (!a) {
    details.append(el("p", { text: upload?.status === "failed" ? "No analysis: the upload failed." : "Not analysed yet." }));
    return details;
  }
  const list = el("dl");
  const row = (term, ...value) => list.append(el("dt", { text: term }), el("dd", {}, ...value));
  const labelled = (v) => (v && typeof v === "object" ? `${v.label}${v.confidence != null ? ` (${Math.round(v.confidence * 100)}%)` : ""}` : v);
  if (a.style_classification) row("Style", labelled(a.style_classification));
  if (a.medium_detected) row("Medium", `${a.medium_detected}${a.medium_confidence != null ? ` (${Math.round(a.medium_confidence * 100)}%)` : ""}`);
  if (a.subject_matter) row("Subject", labelled(a.subject_matter));
  if (a.quality_score != null) {
    const parts = a.quality_parts || {};
    const names = ["sharpness", "exposure", "noise", "resolution"].filter((n) => parts[n] != null);
    row("Quality", `${percent(a.quality_score)} / 100`,
      names.length ? el("ul", { class: "si-parts" }, ...names.map((n) => el("li", { text: `${n} ${percent(parts[n])}` }))) : null);
  }
  if (a.mood_keywords?.length) row("Mood", a.mood_keywords.join(", "));
  const swatches = (colours) => el("ul", { class: "si-swatches" }, ...colours.map((c) => {
    const hex = typeof c === "string" ? c : c.hex;
    const name = typeof c === "string" ? c : `${c.name || hex}${c.share != null ? ` ${Math.round(c.share * 100)}%` : ""}`;
    const swatch = el("span", { class: "si-swatch", "aria-hidden": "true" });
    swatch.style.background = hex;
    return el("li", { title: hex }, swatch, ` ${name}`);
  }));
  if (a.dominant_colors?.length) row("Colours", swatches(a.dominant_colors));
  if (a.brand_colors?.length) row("Brand colours", swatches(a.brand_colors));
  if (a.detected_text) row("Text", a.detected_text);
  details.append(list);
  return details;
}

/** The <smart-image> element (see the module doc). */
export class SmartImage extends HTMLElement {
  static observedAttributes = ["upload-id", "media-id", "size", "sizes", "background", "alt", "loading", "show-analysis"];

  connectedCallback() {
    this.connected = true;
    this.load();
  }

  disconnectedCallback() {
    this.connected = false;
    if (this.unsubscribe) this.unsubscribe();
    this.unsubscribe = null;
  }

  attributeChangedCallback(name, before, after) {
    if (!this.connected || before === after) return;
    if (name === "upload-id" || name === "media-id") this.load();
    else this.render();
  }

  /** The upload object shown (null for a media-id element). */
  get upload() {
    return this._upload || null;
  }

  set upload(value) {
    this._upload = value;
    this.render();
    this.dispatchEvent(new CustomEvent("smart-image:change", { detail: value, bubbles: true }));
  }

  async load() {
    const id = this.getAttribute("upload-id");
    this._upload = null;
    if (!id) {
      if (this.unsubscribe) this.unsubscribe();
      this.unsubscribe = null;
      if (this.hasAttribute("media-id") || this.rendered) this.render();
      return;
    }
    if (!this.unsubscribe) {
      this.unsubscribe = uploadEvents.subscribe((upload) => {
        if (String(upload.id) === this.getAttribute("upload-id")) { this.fromEvent = true; this.upload = upload; }
      }, this.getAttribute("token"));
    }
    this.fromEvent = false;
    try {
      const upload = await api(`/api/uploads/${encodeURIComponent(id)}`, { token: this.getAttribute("token") });
      // an event that came meanwhile is at least as new as this answer
      if (!this.fromEvent && this.getAttribute("upload-id") === id) this.upload = upload;
    } catch (error) {
      this.showMessage(error.status === 404 ? "This image is gone." : `Could not load the image: ${error.message}`);
    }
  }

  get options() {
    const alt = this.getAttribute("alt");
    return {
      size: BOXES[this.getAttribute("size")] ? this.getAttribute("size") : "detail",
      sizes: this.getAttribute("sizes") || "100vw",
      loading: this.getAttribute("loading") === "eager" ? "eager" : "lazy",
      background: ["removed", "original"].includes(this.getAttribute("background")) ? this.getAttribute("background") : null,
      alt,
    };
  }

  frame(ratio) {
    const frame = el("div", { class: "si-frame si-live" });
    if (ratio) frame.style.aspectRatio = ratio;
    return frame;
  }

  showMessage(text) {
    const frame = this.frame(null);
    frame.append(el("p", { class: "si-status", role: "status", text }));
    this.replaceChildren(frame);
    this.rendered = true;
  }

  render() {
    const o = this.options;
    const mediaId = this.getAttribute("media-id");
    const u = this._upload;
    this.rendered = true;
    if (!u && mediaId) {
      const data = publicPictureData(mediaId, o.size, o.background);
      const frame = this.frame(`${data.width} / ${data.height}`);
      frame.append(pictureElement(data, { ...o, alt: o.alt ?? "" }));
      this.dataset.state = "done";
      this.replaceChildren(frame);
      return;
    }
    if (!u) {
      this.dataset.state = "empty";
      this.replaceChildren(this.frame(null));
      return;
    }
    const state = u.status === "failed" ? "failed" : STATE_OF_STAGE[u.stage] || "processing";
    this.dataset.state = state;
    this.dataset.stage = u.stage;
    const data = state === "done" || (u.variants || []).length ? pictureData(u, o.size, o.background) : null;
    const ratio = data ? `${data.width} / ${data.height}` : (BOXES[o.size].fit === "crop" ? `${BOXES[o.size].width} / ${BOXES[o.size].height}` : null);
    const frame = this.frame(ratio);
    const placeholder = u.placeholder;
    if (placeholder) {
      let image = "";
      try {
        const bytes = Uint8Array.from(atob(placeholder.thumbhash), (c) => c.charCodeAt(0));
        image = `url(${thumbHashToDataURL(bytes)}) center / cover no-repeat, `;
      } catch { /* a bad hash: the colour alone */ }
      frame.style.background = `${image}${placeholder.dominant_color || "transparent"}`;
      frame.classList.add("si-placeholder");
    }
    const alt = o.alt ?? altText(u);
    if (data) {
      const picture = pictureElement(data, { ...o, alt });
      const img = picture.querySelector("img");
      const loaded = () => { frame.classList.add("si-loaded"); frame.style.background = ""; this.dataset.loaded = "true"; };
      img.addEventListener("load", loaded, { once: true });
      frame.append(picture);
      if (img.complete && img.naturalWidth) loaded();
    } else if (u.thumbnail_url && state !== "failed") {
      frame.append(el("img", { src: u.thumbnail_url, alt, class: "si-thumbnail", decoding: "async" }));
    }
    if (state !== "done") {
      const status = el("div", { class: "si-status", role: "status", "aria-live": "polite" });
      if (state !== "failed") status.append(el("span", { class: "si-spinner", "aria-hidden": "true" }));
      status.append(el("span", { class: "si-status-text", text: STAGE_TEXT[u.stage] || u.status }));
      if (state === "failed") {
        if (u.failure_reason) status.append(el("span", { class: "si-reason", text: u.failure_reason }));
        if (u.retryable) {
          const retry = el("button", { type: "button", class: "si-retry", text: "Retry" });
          retry.addEventListener("click", () => this.retry());
          status.append(retry);
        }
      }
      frame.append(status);
    }
    const parts = [frame];
    if (this.hasAttribute("show-analysis")) parts.push(analysisElement(u));
    const open = this.querySelector("details.si-analysis")?.open;
    this.replaceChildren(...parts);
    if (open) this.querySelector("details.si-analysis").open = true;
  }

  /** POST /api/uploads/{id}/retry: the failed upload queued again. */
  async retry() {
    try {
      this.upload = await api(`/api/uploads/${this.getAttribute("upload-id")}/retry`, { method: "POST", token: this.getAttribute("token") });
    } catch (error) {
      this.showMessage(`Retry failed: ${error.message}`);
    }
  }
}

if (!customElements.get("smart-image")) customElements.define("smart-image", SmartImage);
