// Initialise GOV.UK Frontend's JavaScript components (notification banners,
// service navigation toggle, error summary, etc.).
//
// Loaded by templates/layout.html as <script type="module">, so it only runs in
// browsers that GOV.UK Frontend supports. The app's Content-Security-Policy
// allows scripts from 'self' only, so there is no inline script of ours.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

// GOV.UK's template sets these classes from a small inline script that needs
// the CSP nonce. If that script was blocked (no nonce), set them here: a
// browser running this module is one GOV.UK Frontend supports.
document.body.classList.add("js-enabled", "govuk-frontend-supported");

initAll();

// A board pack being prepared (templates/board/pack_status.html): ask how it is going every
// few seconds, say so in the page's status region, and reload the page once it is ready (or
// has failed), which then offers the file.
const progress = document.querySelector("[data-pack-status]");
if (progress) {
  const address = progress.dataset.packStatus;
  const check = async () => {
    try {
      const answer = await fetch(address, { headers: { Accept: "application/json" } });
      if (answer.ok) {
        const pack = await answer.json();
        if (pack.state === "ready" || pack.state === "failed") {
          window.location.reload();
          return;
        }
        const done = pack.progress ? ` (${pack.progress}% done)` : "";
        progress.textContent = `${pack.step || "Waiting to start"}${done}`;
      }
    } catch (error) {
      // offline for a moment: try again at the next tick
    }
    window.setTimeout(check, 2000);
  };
  window.setTimeout(check, 2000);
}
