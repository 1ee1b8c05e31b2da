// "Copy link to this view" (Gradio): the query the server made (/view_link) after this page's
// own address (on a Space: its hf.space address), to the clipboard and into the box.
(query) => {
  // the browser widget's slider positions too (explorer/web/latent-widget.js)
  const extra = window.LatentWidget ? window.LatentWidget.linkQuery() : "";
  const joined = (query || "") + (extra ? ((query || "").includes("?") ? "&" : "?") + extra : "");
  const url = window.location.origin + window.location.pathname + joined;
  try { navigator.clipboard.writeText(url); } catch (error) { /* the box still shows it */ }
  return url;
}
