// marimo renders anywidgets inside a shadow root (docs/hosts.md): there `document.activeElement` is the shadow
// host, so the focus badge must ask the widget's own root node what has focus (seen in a real marimo page:
// the widget had the keyboard while its badge said "Click here ...").
import { afterEach, describe, expect, it } from "vitest";
import widget from "../src/index";
import { key, makeModel, submits } from "./fake_model";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  document.body.replaceChildren();
});

function mountInShadow(): { host: HTMLElement; root: HTMLElement; model: ReturnType<typeof makeModel> } {
  const host = document.createElement("div");
  document.body.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  const el = document.createElement("div");
  shadow.append(el);
  const model = makeModel({ total: 3 });
  const cleanup = widget.render({ model, el });
  if (typeof cleanup === "function") cleanups.push(cleanup);
  return { host, root: el.querySelector(".rw-root") as HTMLElement, model };
}

describe("the widget in a shadow root (marimo)", () => {
  it("the badge says the widget has the keyboard when its root is focused, and the page when not", () => {
    const { root, model } = mountInShadow();
    root.focus();
    expect(document.activeElement).not.toBe(root); // the shadow host, as in marimo
    const badge = root.querySelector(".rw-keys-badge") as HTMLElement;
    expect(badge.dataset.keys).toBe("widget");
    expect(root.classList.contains("rw-has-keys")).toBe(true);
    key(root, "2");
    key(root, "Enter");
    expect(submits(model)).toHaveLength(1);
    root.blur();
    return new Promise<void>((done) =>
      setTimeout(() => {
        expect(badge.dataset.keys).toBe("page");
        done();
      }, 5),
    );
  });
});
