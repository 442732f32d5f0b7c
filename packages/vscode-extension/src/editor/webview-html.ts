export interface WebviewHtmlOptions {
  /** The webview's own resource origin (`webview.cspSource`). */
  cspSource: string;
  /** Fresh for every page load: only the script carrying it may run. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** The graph engine's own stylesheet (its menus and dialogs), bundled beside the script. */
  graphStyleUri: string;
  title: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The workflow editor's page. The policy allows only the extension's own script (by nonce) and stylesheet,
 * and images from the webview's resource origin or data: URLs: nothing remote, no inline script.
 */
export function webviewHtml(o: WebviewHtmlOptions): string {
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.graphStyleUri)}">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<header>
  <h1 id="name">${escapeHtml(o.title)}</h1>
  <span id="format" class="badge"></span>
  <div class="actions">
    <button id="generate" type="button">Generate</button>
    <button id="cancel" type="button" class="secondary" hidden>Cancel</button>
    <button id="open-text" type="button" class="secondary">Open as text</button>
  </div>
</header>
<p id="message" role="status"></p>
<ul id="problems"></ul>
<section id="run" hidden>
  <h2>Generation</h2>
  <div class="bar"><div id="bar-fill"></div></div>
  <p id="run-status"></p>
  <img id="preview" alt="live preview" hidden>
  <div id="images"></div>
</section>
<section class="graph-area">
  <div class="graph-pane"><button id="graph-back" type="button" class="secondary" hidden>Back to the main graph</button><div id="graph"></div></div>
  <aside id="inspector"></aside>
</section>
<div class="columns">
  <div>
    <section><h2>Parameters</h2><form id="form"></form></section>
    <section><h2>Models</h2><ul id="models"><li class="muted">Select a server to check the models.</li></ul></section>
  </div>
  <div>
    <section id="queue-section"><h2>Queue</h2><ul id="queue"></ul></section>
    <section><h2>Gallery</h2><button id="compare" type="button" class="secondary" hidden>Compare the two</button><div id="gallery"></div></section>
  </div>
</div>
<div id="overlay" role="dialog" aria-modal="true" hidden><button id="overlay-close" type="button" class="secondary">Close</button><div id="overlay-body"></div></div>
<script nonce="${o.nonce}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
