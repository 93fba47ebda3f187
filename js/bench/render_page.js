// Evaluated in a blank Chromium page by render_chromium.py: render the 50 KB document repeatedly.
async (runs) => {
  const { renderMarkdown, wordDiff, makeDoc } = window.rwBench;
  const doc = makeDoc();
  // Inside the widget's own containers, so its CSS applies as in JupyterLab.
  const root = document.createElement("div");
  root.className = "rw-root";
  const host = document.createElement("div");
  host.className = "rw-body rw-md";
  root.append(host);
  document.body.append(root);
  // Time to pixels: render + insert, then force style and layout (what the labeler waits for).
  const once = () => {
    const t0 = performance.now();
    host.replaceChildren(renderMarkdown(doc, { allowRemoteImages: false }));
    void host.getBoundingClientRect().height;
    return performance.now() - t0;
  };
  const cold = once();
  const warm = [];
  for (let i = 0; i < runs; i++) warm.push(once());
  const b = doc.replace(/smaller instances/g, "smaller copies");
  const diff = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    wordDiff(doc, b);
    diff.push(performance.now() - t0);
  }
  return {
    cold,
    warm,
    diff,
    bytes: doc.length,
    pre: host.querySelectorAll("pre").length,
    math: host.querySelectorAll("math").length,
    ua: navigator.userAgent,
  };
};
