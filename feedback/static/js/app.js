// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// The header measures which menu items fit before web fonts arrive (font-display: swap),
// and a Bengali or Tamil word is wider in its own font: measure again when fonts load.
const remeasure = () => window.dispatchEvent(new Event("resize"));
document.fonts.addEventListener("loadingdone", remeasure);
document.fonts.ready.then(remeasure);

// Buttons that ask "are you sure?" before a destructive POST.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
});
