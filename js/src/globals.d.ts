declare module "*.css";
// Vite's raw import (tests read the stylesheet as text).
declare module "*.css?raw" {
  const text: string;
  export default text;
}
