/*
 * The latent widget: G and D of a GAN Explorer checkpoint, run in the visitor's browser.
 *
 * One file for both editions of the explorer. The server hands the widget, once per page or
 * per seed, only what the browser cannot make itself (see explorer/widget.py):
 *   - z for the seed, from the project's one sampler (numpy's default_rng(seed)),
 *   - the principal directions (GANSpace) for the PC sliders,
 *   - the names of the ONNX files of G and D (trainers/onnx_export.py).
 * Every slider step then runs here, with onnxruntime-web (WebAssembly, one thread) on the
 * visitor's CPU, and sends nothing to the server.
 *
 * The latent maths is the same as trainers/latent_space.py:
 *   z' = psi * z                          truncation psi
 *   z'[:, dim] += offset                  a raw dimension
 *   z' += sum_i amount_i * direction_i    principal directions (orthonormal rows)
 *   lerp(a, b, t) = (1 - t) a + t b
 *   slerp(a, b, t) = (sin((1 - t) w) a + sin(t w) b) / sin(w),  w = angle(a, b)
 * and the pixels the same as trainers/data.py's to_uint8_images:
 *   uint8 = round((clamp(x, -1, 1) + 1) * 127.5)
 * so the canvas shows the pictures of `gan-train sample` for the same seed and sliders.
 *
 * Hosts: Gradio mounts it with LatentWidget.mountGradio(element, props, watch) from a gr.HTML
 * component; Streamlit loads index.html (a components.v1 component) which calls
 * LatentWidget.mountStreamlit(). The root element always has id="latent-widget" (in Gradio,
 * where several tabs may hold one, the visible one has it).
 */
(function () {
  "use strict";

  // Where this script was loaded from: <root>/static/latent-widget.js. Models are <root>/models/.
  const SCRIPT_URL = (document.currentScript && document.currentScript.src) || window.location.href;
  const ROOT_URL = new URL("../", SCRIPT_URL).href;
  const TILE_TARGET = 96; // tiles are scaled by a whole number to about this many pixels
  const sessions = new Map(); // model URL -> Promise<InferenceSession>
  const widgets = new Set();

  // --- small helpers -------------------------------------------------------------------------

  function decodeFloat32(base64url) {
    // float32 little-endian, URL-safe base64 (explorer/widget.py _b64)
    const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function webAssemblyProblem() {
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      return "this browser has no WebAssembly";
    }
    return null;
  }

  function loadOrt() {
    if (window.ort) return Promise.resolve(window.ort);
    if (!loadOrt.promise) {
      loadOrt.promise = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = ROOT_URL + "static/ort.wasm.min.js";
        script.onload = () => (window.ort ? resolve(window.ort) : reject(new Error("no ort")));
        script.onerror = () => reject(new Error("onnxruntime-web did not load"));
        document.head.appendChild(script);
      });
    }
    return loadOrt.promise;
  }

  async function session(url) {
    if (!sessions.has(url)) {
      const promise = loadOrt().then((ort) => {
        ort.env.wasm.wasmPaths = ROOT_URL + "static/";
        ort.env.wasm.numThreads = 1; // threads need cross-origin isolation; one is plenty here
        ort.env.wasm.proxy = false;
        return ort.InferenceSession.create(url, {
          executionProviders: ["wasm"],
          graphOptimizationLevel: "all",
        });
      });
      promise.catch(() => sessions.delete(url));
      sessions.set(url, promise);
    }
    return sessions.get(url);
  }

  // --- the latent maths (trainers/latent_space.py) -------------------------------------------

  function rows(flat, d) {
    const out = [];
    for (let i = 0; i < flat.length / d; i++) out.push(flat.subarray(i * d, (i + 1) * d));
    return out;
  }

  function editLatents(base, d, n, values, directions) {
    // base: Float32Array (>= n rows of d) from the sampler; returns Float32Array (n * d).
    const z = new Float32Array(n * d);
    const psi = Math.fround(values.psi);
    for (let i = 0; i < n * d; i++) z[i] = Math.fround(base[i] * psi);
    (values.dims || []).forEach((dim, j) => {
      const offset = Number((values.offsets || [])[j] || 0);
      if (!offset) return;
      const k = Math.min(Math.max(Math.trunc(dim), 0), d - 1);
      for (let i = 0; i < n; i++) z[i * d + k] = Math.fround(z[i * d + k] + offset);
    });
    const amounts = values.pcs || [];
    if (directions && amounts.some((a) => a)) {
      const shift = new Float32Array(d);
      amounts.forEach((amount, j) => {
        if (!amount || j >= directions.length) return;
        for (let k = 0; k < d; k++) shift[k] += amount * directions[j][k];
      });
      for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) z[i * d + k] += shift[k];
    }
    return z;
  }

  function lerp(a, b, t) {
    const out = new Float32Array(a.length);
    if (t === 0) out.set(a);
    else if (t === 1) out.set(b);
    else for (let k = 0; k < a.length; k++) out[k] = (1 - t) * a[k] + t * b[k];
    return out;
  }

  function slerp(a, b, t) {
    let dot = 0, na = 0, nb = 0;
    for (let k = 0; k < a.length; k++) { dot += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k]; }
    const cos = Math.max(-1, Math.min(1, dot / Math.max(Math.sqrt(na) * Math.sqrt(nb), 1e-12)));
    const omega = Math.acos(cos);
    if (Math.abs(omega) < 1e-4 || Math.PI - Math.abs(omega) < 1e-4 || t === 0 || t === 1) {
      return lerp(a, b, t);
    }
    const out = new Float32Array(a.length);
    const s = Math.sin(omega), wa = Math.sin((1 - t) * omega) / s, wb = Math.sin(t * omega) / s;
    for (let k = 0; k < a.length; k++) out[k] = wa * a[k] + wb * b[k];
    return out;
  }

  function norm(v) {
    let s = 0;
    for (let k = 0; k < v.length; k++) s += v[k] * v[k];
    return Math.sqrt(s);
  }

  function toUint8(x) {
    // trainers/data.py to_uint8_images: (clamp(x, -1, 1) + 1) * 127.5, rounded.
    const out = new Uint8ClampedArray(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = (Math.min(1, Math.max(-1, x[i])) + 1) * 127.5;
      out[i] = Math.round(v);
    }
    return out;
  }

  function sigmoid(v) {
    return 1 / (1 + Math.exp(-v));
  }

  // --- drawing ---------------------------------------------------------------------------------

  // The presenter's view (body.presenter, set by either edition): larger tiles and labels. In
  // Streamlit the widget is in an iframe of the same origin, so the page's body says it.
  function presenterOn() {
    try {
      if (window.parent !== window && window.parent.document.body.classList.contains("presenter")) {
        return true;
      }
    } catch (error) { /* another origin: only our own body counts */ }
    return !!document.body && document.body.classList.contains("presenter");
  }

  function watchPresenter() {
    const redraw = () => widgets.forEach((w) => w.config && w.controls && w.schedule());
    const bodies = [document.body];
    try { if (window.parent !== window) bodies.push(window.parent.document.body); } catch (error) { /* cross-origin */ }
    let last = presenterOn();
    const observer = new MutationObserver(() => {
      const now = presenterOn();
      if (now !== last) { last = now; redraw(); }
    });
    bodies.forEach((body) => body && observer.observe(body, { attributes: true, attributeFilter: ["class"] }));
  }

  function scoreColour(score) {
    const s = Math.min(1, Math.max(0, score));
    const red = [220, 38, 38], green = [22, 163, 74];
    return `rgb(${red.map((c, i) => Math.trunc(c + (green[i] - c) * s)).join(",")})`;
  }

  /**
   * Draw tiles onto a canvas: images uint8 (N, C, H, W) planar, scores (N,) or null.
   * Returns the layout (tile origins and scale) so tests can read the pixels back.
   */
  function drawGrid(canvas, images, shape, ncol, scores, options) {
    const [c, h, w] = shape;
    const n = images.length / (c * h * w);
    const presenter = presenterOn();
    const scale = Math.max(1, Math.round((presenter ? 2 : 1) * TILE_TARGET / h));
    const pad = 4, font = presenter ? 18 : 12;
    const below = (scores || options.reserveScores ? 4 + font + 4 : 0);
    const top = options.columnTitles ? font + 6 : 0;
    const left = options.rowTitles ? 8 + font * 2 : 0;
    const nrow = Math.ceil(n / ncol);
    const tw = w * scale, th = h * scale;
    canvas.width = left + ncol * (tw + pad) + pad;
    canvas.height = top + nrow * (th + below + pad) + pad;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const tile = document.createElement("canvas");
    tile.width = w;
    tile.height = h;
    const tctx = tile.getContext("2d");
    const rgba = tctx.createImageData(w, h);
    const origins = [];
    for (let i = 0; i < n; i++) {
      const base = i * c * h * w;
      for (let p = 0; p < h * w; p++) {
        const r = images[base + p];
        rgba.data[4 * p] = r;
        rgba.data[4 * p + 1] = c === 3 ? images[base + h * w + p] : r;
        rgba.data[4 * p + 2] = c === 3 ? images[base + 2 * h * w + p] : r;
        rgba.data[4 * p + 3] = 255;
      }
      tctx.putImageData(rgba, 0, 0);
      const row = Math.floor(i / ncol), col = i % ncol;
      const x0 = left + pad + col * (tw + pad), y0 = top + pad + row * (th + below + pad);
      ctx.drawImage(tile, 0, 0, w, h, x0, y0, tw, th);
      origins.push([x0, y0]);
      if (scores) {
        const s = scores[i];
        ctx.fillStyle = "#e5e7eb";
        ctx.fillRect(x0, y0 + th + 1, tw, 3);
        ctx.fillStyle = scoreColour(s);
        ctx.fillRect(x0, y0 + th + 1, Math.max(1, Math.round(tw * Math.min(1, Math.max(0, s)))), 3);
        ctx.fillStyle = "#1f2937";
        ctx.font = `${font}px sans-serif`;
        ctx.textAlign = "center";
        ctx.textBaseline = "top";
        ctx.fillText(`D ${s.toFixed(2)}`, x0 + tw / 2, y0 + th + 6);
      }
    }
    ctx.fillStyle = "#1f2937";
    ctx.font = `${font}px sans-serif`;
    ctx.textBaseline = "top";
    if (options.columnTitles) {
      ctx.textAlign = "center";
      options.columnTitles.slice(0, ncol).forEach((title, col) => {
        ctx.fillText(title, left + pad + col * (tw + pad) + tw / 2, 2, tw);
      });
    }
    if (options.rowTitles) {
      ctx.textAlign = "left";
      options.rowTitles.forEach((title, row) => {
        ctx.fillText(title, 4, top + pad + row * (th + below + pad) + th / 2 - font / 2);
      });
    }
    return { origins, scale, shape: [c, h, w] };
  }

  // --- slider values from the page's link (?psi=0.7&grid=3&class=7&t=0.25&pc1=2) -------------

  function pageQuery() {
    try { return new URLSearchParams(window.top.location.search); } catch (error) { /* other origin */ }
    return new URLSearchParams(window.location.search);
  }

  /** Lay a link's slider values over the start values, each clamped to its slider's range. */
  function applyLink(values, config) {
    const query = pageQuery(), limits = config.limits || {}, model = config.model;
    const classes = Math.max(1, model.class_names.length);
    const ranges = {
      grid: [1, limits.max_grid, true], psi: [0, limits.max_psi, false],
      rows: [1, limits.max_rows, true], side: [1, limits.max_grid, true], t: [0, 1, false],
      class: [config.mode === "generate" ? -1 : 0, model.conditional ? classes - 1 : -1, true],
    };
    for (const [name, [low, high, whole]] of Object.entries(ranges)) {
      const text = query.get(name);
      if (text === null || !(name in values) || !Number.isFinite(Number(text))) continue;
      const number = Math.min(high, Math.max(low, Number(text)));
      values[name] = whole ? Math.round(number) : number;
    }
    (values.pcs || []).forEach((_, j) => {
      const text = query.get(`pc${j + 1}`);
      if (text !== null && Number.isFinite(Number(text))) {
        values.pcs[j] = Math.min(limits.offset_max, Math.max(-limits.offset_max, Number(text)));
      }
    });
  }

  // --- the widget ------------------------------------------------------------------------------

  class Widget {
    constructor(root, host) {
      this.root = root;
      this.host = host || {};
      this.config = null;
      this.values = {};
      this.running = false;
      this.pending = false;
      this.frames = 0;
      this.layouts = [];
      this.lastImages = [];
      root.classList.add("latent-widget");
      root.latentWidget = this;
      widgets.add(this);
      claimId();
    }

    /** A new config from the server (a new model, seed or mode). */
    async update(config) {
      if (!config || !config.mode) return;
      if (this.config && this.config.id === config.id) return; // nothing new (Streamlit reruns)
      const previous = this.config;
      this.config = config;
      this.root.dataset.mode = config.mode;
      const problem = config.fallback || webAssemblyProblem();
      if (problem) return this.fallBack(problem);
      const sameModel = previous && previous.model && previous.model.key === config.model.key &&
        previous.mode === config.mode && !previous.fallback;
      this.base = decodeFloat32(config.z);
      this.directions = config.pca ? rows(decodeFloat32(config.pca.directions), config.model.latent_dim) : null;
      // A new model or mode starts from the server's values (a deep link's, or the defaults);
      // a new seed for the same model keeps the visitor's slider positions.
      if (!sameModel) this.values = JSON.parse(JSON.stringify(config.values || {}));
      if (!this.linkRead) { this.linkRead = true; applyLink(this.values, config); }
      if (!sameModel || !this.controls || this.root.dataset.fallback) {
        this.build();
        this.caption.textContent = `Loading ${config.model.name} into your browser…`;
      }
      try {
        const base = new URL(config.model_base, ROOT_URL).href;
        this.g = await session(base + "G.onnx");
        this.d = config.model.has_discriminator ? await session(base + "D.onnx") : null;
      } catch (error) {
        return this.fallBack(`the model could not be run in this browser (${error.message || error})`);
      }
      this.schedule();
    }

    fallBack(reason) {
      this.root.innerHTML = "";
      this.root.dataset.fallback = "1";
      const lead = this.config ? this.config.text.fallback : "Pictures come from the server:";
      this.root.appendChild(el("p", { class: "lw-note", text: `${lead} ${reason}.` }));
      if (this.host.onFallback) this.host.onFallback(reason);
    }

    // The controls: the sliders that change the picture are <input type="range">.
    build() {
      const cfg = this.config, v = this.values, model = cfg.model;
      this.root.innerHTML = "";
      delete this.root.dataset.fallback;
      const controls = el("div", { class: "lw-controls" });
      const add = (node) => controls.appendChild(node);
      const range = (name, label, min, max, step, value, onChange) => {
        const input = el("input", { type: "range", min, max, step, value, name, "aria-label": label });
        const out = el("output", { text: String(value) });
        input.addEventListener("input", () => {
          out.textContent = input.value;
          onChange(Number(input.value));
          this.schedule();
        });
        add(el("label", { class: "lw-row" }, [el("span", { text: label }), input, out]));
        return input;
      };
      const select = (name, label, options, value, onChange) => {
        const node = el("select", { name, "aria-label": label });
        options.forEach(([val, text]) => node.appendChild(el("option", { value: val, text })));
        node.value = String(value);
        node.addEventListener("change", () => { onChange(node.value); this.schedule(); });
        add(el("label", { class: "lw-row" }, [el("span", { text: label }), node]));
        return node;
      };
      const limits = cfg.limits || {};
      const classOptions = model.class_names.map((name, i) => [String(i), name]);
      if (cfg.mode === "generate") {
        range("grid", "grid side n (n × n)", 1, limits.max_grid, 1, v.grid, (x) => (v.grid = x));
        range("psi", "truncation ψ", 0, limits.max_psi, 0.05, v.psi, (x) => (v.psi = x));
        if (model.conditional) {
          select("class", "class", [["-1", cfg.text.mixed], ...classOptions], v.class,
            (x) => (v.class = Number(x)));
        }
        v.dims.forEach((dim, j) => {
          const number = el("input", { type: "number", min: 0, max: model.latent_dim - 1, step: 1, value: dim, name: `dim${j + 1}`, "aria-label": `dimension #${j + 1}` });
          number.addEventListener("change", () => {
            v.dims[j] = Math.min(Math.max(Math.trunc(Number(number.value) || 0), 0), model.latent_dim - 1);
            this.schedule();
          });
          const slider = el("input", { type: "range", min: -limits.offset_max, max: limits.offset_max, step: 0.1, value: v.offsets[j], name: `offset${j + 1}`, "aria-label": `add to z[dimension] #${j + 1}` });
          const out = el("output", { text: String(v.offsets[j]) });
          slider.addEventListener("input", () => { v.offsets[j] = Number(slider.value); out.textContent = slider.value; this.schedule(); });
          add(el("label", { class: "lw-row" }, [el("span", { text: "z[" }), number, el("span", { text: "] +" }), slider, out]));
        });
        (cfg.pca ? cfg.pca.labels : []).forEach((label, j) => {
          range(`pc${j + 1}`, label, -limits.offset_max, limits.offset_max, 0.1, v.pcs[j], (x) => (v.pcs[j] = x));
        });
      } else if (cfg.mode === "classes") {
        range("psi", "truncation ψ", 0, limits.max_psi, 0.05, v.psi, (x) => (v.psi = x));
        range("rows", "latents (rows)", 1, limits.max_rows, 1, v.rows, (x) => (v.rows = x));
        select("class", "class for the grid below", classOptions, v.class, (x) => (v.class = Number(x)));
        range("side", "grid side", 1, limits.max_grid, 1, v.side, (x) => (v.side = x));
      } else if (cfg.mode === "interpolate") {
        range("t", "t (from A at 0 to B at 1)", 0, 1, 0.01, v.t, (x) => (v.t = x));
        if (model.conditional) {
          select("class", "class", classOptions, v.class, (x) => (v.class = Number(x)));
        }
      }
      this.controls = controls;
      this.canvases = [el("canvas", { class: "lw-canvas" })];
      if (cfg.mode !== "generate") this.canvases.push(el("canvas", { class: "lw-canvas" }));
      this.caption = el("p", { class: "lw-caption" });
      const pictures = el("div", { class: "lw-pictures" }, this.canvases);
      this.root.appendChild(el("div", { class: "lw-body" }, [controls, el("div", {}, [pictures, this.caption])]));
      this.root.appendChild(el("p", { class: "lw-note", text: cfg.text.where }));
    }

    /** Run G (and D) for the current values as soon as the previous run is done. */
    schedule() {
      this.pending = true;
      if (this.requested === undefined) this.requested = performance.now();
      if (!this.running) this.loop();
    }

    async loop() {
      this.running = true;
      try {
        while (this.pending) {
          this.pending = false;
          await this.render();
        }
      } catch (error) {
        this.caption.textContent = `⚠️ ${error.message || error}`;
      } finally {
        this.running = false;
      }
    }

    /** G on n latents: the image tensor (for D) and its uint8 pixels. */
    async runG(z, n, labels) {
      const ort = window.ort, model = this.config.model;
      const feeds = { z: new ort.Tensor("float32", z, [n, model.latent_dim]) };
      if (model.conditional) {
        feeds.label = new ort.Tensor("int64", BigInt64Array.from(labels, (x) => BigInt(x)), [n]);
      }
      const image = (await this.g.run(feeds)).image; // (n, C, H, W) in [-1, 1]
      return { tensor: image, label: feeds.label, images: toUint8(image.data), scores: null };
    }

    /** D's realness sigmoid(D(x[, y])) of G's (unrounded) output, as the pipeline computes it. */
    async runD(out) {
      const feeds = { image: out.tensor };
      if (out.label) feeds.label = out.label;
      return Array.from((await this.d.run(feeds)).logit.data, sigmoid);
    }

    /** The pictures of this mode for the current values: [{z, n, labels, ncol, options}]. */
    plan() {
      const cfg = this.config, v = this.values, model = cfg.model, d = model.latent_dim;
      const names = model.class_names;
      if (cfg.mode === "generate") {
        const n = v.grid * v.grid;
        const z = editLatents(this.base, d, n, v, this.directions);
        const labels = Array.from({ length: n }, (_, i) => (v.class >= 0 ? v.class : i % Math.max(1, names.length)));
        this.caption.textContent = `${n} samples · seed ${cfg.seed} · ψ ${v.psi}` +
          ` · ‖z₀‖ = ${norm(z.subarray(0, d)).toFixed(2)} (√${d} = ${Math.sqrt(d).toFixed(1)})`;
        return [{ z, n, labels, ncol: v.grid, options: {} }];
      }
      if (cfg.mode === "classes") {
        const k = names.length, r = v.rows, m = v.side * v.side;
        const base = editLatents(this.base, d, Math.max(r, m), { psi: v.psi }, null);
        const every = new Float32Array(r * k * d); // row i, column c: G(z_i, c)
        for (let i = 0; i < r; i++) for (let c = 0; c < k; c++) every.set(base.subarray(i * d, (i + 1) * d), (i * k + c) * d);
        this.caption.textContent = `seed ${cfg.seed} · ψ ${v.psi} · grid: ${names[v.class]}`;
        return [
          { z: every, n: r * k, labels: Array.from({ length: r * k }, (_, i) => i % k), ncol: k, options: {
            columnTitles: names.map((s) => (s.length <= 11 ? s : s.slice(0, 10) + "…")),
            rowTitles: Array.from({ length: r }, (_, i) => `z${i}`),
          } },
          { z: base.slice(0, m * d), n: m, labels: new Array(m).fill(v.class), ncol: v.side, options: {} },
        ];
      }
      const a = this.base.subarray(0, d), b = this.base.subarray(d, 2 * d);
      const label = model.conditional ? v.class : 0;
      const paths = [lerp(a, b, v.t), slerp(a, b, v.t)];
      this.caption.textContent = `t = ${v.t} · ‖lerp‖ = ${norm(paths[0]).toFixed(2)} · ‖slerp‖ = ${norm(paths[1]).toFixed(2)} (√${d} = ${Math.sqrt(d).toFixed(1)})`;
      return paths.map((z, i) => ({ z, n: 1, labels: [label], ncol: 1, options: { columnTitles: [["lerp", "slerp"][i]] } }));
    }

    draw(pictures, outs) {
      const shape = this.config.model.image_shape, hasD = !!this.d;
      this.layouts = pictures.map((p, i) => drawGrid(this.canvases[i], outs[i].images, shape, p.ncol, outs[i].scores, Object.assign({ reserveScores: hasD }, p.options)));
      this.lastImages = outs.map((out) => out.images);
      this.lastScores = outs.map((out) => out.scores);
    }

    // (1) G, drawn at once: the canvas changes; (2) D's scores under the samples, unless the
    // visitor has already moved a slider again (then the next frame brings them).
    async render() {
      const started = this.requested ?? performance.now();
      this.requested = undefined;
      const pictures = this.plan();
      const outs = [];
      for (const p of pictures) outs.push(await this.runG(p.z, p.n, p.labels));
      this.draw(pictures, outs);
      this.frames += 1;
      this.lastMs = performance.now() - started;
      this.root.dataset.frames = String(this.frames);
      this.root.dataset.lastMs = this.lastMs.toFixed(1);
      if (this.d && !this.pending) {
        for (const out of outs) out.scores = await this.runD(out);
        if (!this.pending) {
          this.draw(pictures, outs);
          const all = outs.flatMap((out) => out.scores);
          const mean = all.reduce((x, y) => x + y, 0) / all.length;
          this.caption.textContent += ` · mean D(G(z)) ${mean.toFixed(2)}`;
          this.scored = this.frames;
          this.root.dataset.scored = String(this.frames);
        }
      }
      if (this.host.onFrame) this.host.onFrame(this);
    }

    /** Pixels read back from canvas i: uint8 (N, H, W, C) as a plain array (for tests). */
    readTiles(i) {
      const layout = this.layouts[i || 0], canvas = this.canvases[i || 0];
      const [c, h, w] = layout.shape, s = layout.scale;
      const ctx = canvas.getContext("2d");
      const out = [];
      for (const [x0, y0] of layout.origins) {
        const data = ctx.getImageData(x0, y0, w * s, h * s).data;
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
          const p = 4 * ((y * s + (s >> 1)) * w * s + x * s + (s >> 1));
          for (let ch = 0; ch < c; ch++) out.push(data[p + ch]);
        }
      }
      return out;
    }
  }

  // In Gradio several tabs may each hold a widget: the visible one gets id="latent-widget".
  function claimId() {
    let visible = null;
    for (const widget of widgets) {
      if (!widget.root.isConnected) { widgets.delete(widget); continue; }
      if (!visible && widget.root.offsetParent !== null) visible = widget;
    }
    for (const widget of widgets) {
      widget.root.id = widget === visible || (!visible && widgets.size === 1) ?
        "latent-widget" : `latent-widget-${widget.root.dataset.mode || "other"}`;
    }
  }
  setInterval(claimId, 250);
  if (document.body) watchPresenter();
  else document.addEventListener("DOMContentLoaded", watchPresenter);

  // --- hosts -----------------------------------------------------------------------------------

  /** Gradio: called from gr.HTML's js_on_load; props.value is the config as JSON text. */
  function mountGradio(element, props, watch) {
    const root = element.querySelector(".latent-widget-root") || element;
    const widget = new Widget(root, {
      onFallback() {
        document.body.classList.add("latent-widget-fallback");
        const button = document.querySelector("#" + (root.dataset.serverButton || "none"));
        if (button) button.click(); // draw once on the server path
      },
    });
    const apply = () => {
      const text = props.value;
      if (!text) return;
      try { widget.update(JSON.parse(text)); } catch (error) { widget.fallBack(String(error)); }
    };
    apply();
    if (watch) watch("value", () => {
      const fresh = element.querySelector(".latent-widget-root");
      if (fresh && fresh !== widget.root) { widget.root = fresh; fresh.latentWidget = widget; widget.config = null; }
      apply();
    });
    return widget;
  }

  /** Streamlit: index.html talks to Streamlit's components.v1 protocol by hand. */
  function mountStreamlit() {
    const root = document.getElementById("latent-widget");
    const send = (type, extra) => window.parent.postMessage(Object.assign({ isStreamlitMessage: true, type }, extra), "*");
    let height = -1;
    const resize = () => {
      // The content's height (the body's, not the document's: that one is at least the iframe's
      // own height, so adding to it would grow the iframe for ever).
      const wanted = Math.ceil(document.body.getBoundingClientRect().height) + 4;
      if (wanted !== height) send("streamlit:setFrameHeight", { height: (height = wanted) });
    };
    const widget = new Widget(root, {
      onFrame: resize,
      onFallback(reason) {
        resize();
        send("streamlit:setComponentValue", { value: { fallback: reason }, dataType: "json" });
      },
    });
    window.addEventListener("message", (event) => {
      const data = event.data || {};
      if (data.type !== "streamlit:render") return;
      const config = data.args && data.args.config;
      widget.update(config).then(resize, resize);
    });
    send("streamlit:componentReady", { apiVersion: 1 });
    new ResizeObserver(resize).observe(document.body);
    return widget;
  }

  /** The visible widget's slider positions as a query ("psi=0.7&grid=3"), for "Copy link". */
  function linkQuery() {
    const widget = [...widgets].find((w) => w.root.id === "latent-widget" && w.config && w.values);
    if (!widget) return "";
    const v = widget.values, query = new URLSearchParams();
    for (const name of ["grid", "psi", "class", "rows", "side", "t"]) {
      if (name in v && v[name] !== (widget.config.values || {})[name]) query.set(name, String(v[name]));
    }
    (v.pcs || []).forEach((amount, j) => { if (amount) query.set(`pc${j + 1}`, String(amount)); });
    return query.toString();
  }

  window.LatentWidget = { Widget, mountGradio, mountStreamlit, widgets, editLatents, lerp, slerp, toUint8, linkQuery };
})();
