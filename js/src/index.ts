// anywidget entry point: `render` mounts the RankWidget view and returns its cleanup.
import "./styles.css";
import { AuditApp } from "./audit/view";
import type { AnyModel, AuditTraits, Model, RankTraits } from "./model";
import { App } from "./view/app";

export default {
  render({ model, el }: { model: AnyModel; el: HTMLElement }): () => void {
    // AuditWidget shares the bundle and CSS file (design §2): it sets the `_view` trait to "audit". That trait
    // is what says which traits the model carries, hence the one cast from the untyped model here.
    const app =
      model.get("_view") === "audit"
        ? new AuditApp(model as unknown as Model<AuditTraits>, el)
        : new App(model as unknown as Model<RankTraits>, el);
    return () => app.destroy();
  },
};
