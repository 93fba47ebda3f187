// Placeholder entry: replaced by the real view (see docs/protocol.md).
import "./styles.css";

type Model = { get(key: string): unknown };

export default {
  render({ model, el }: { model: Model; el: HTMLElement }): () => void {
    el.classList.add("rw-root");
    el.textContent = String(model.get("item_id") ?? "");
    return () => el.replaceChildren();
  },
};
