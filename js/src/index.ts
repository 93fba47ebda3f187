// anywidget entry point: `render` mounts the RankWidget view and returns its cleanup.
import "./styles.css";
import type { WidgetModel } from "./types";
import { AuditApp } from "./audit/view";
import { App } from "./view/app";

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
    // AuditWidget shares the bundle and CSS file (design §2): it sets the `_view` trait to "audit".
    const app = model.get("_view") === "audit" ? new AuditApp(model, el) : new App(model, el);
    return () => app.destroy();
  },
};
