// anywidget entry point: `render` mounts the RankWidget view and returns its cleanup.
import "./styles.css";
import type { WidgetModel } from "./types";
import { App } from "./view/app";

export default {
  render({ model, el }: { model: WidgetModel; el: HTMLElement }): () => void {
    const app = new App(model, el);
    return () => app.destroy();
  },
};
