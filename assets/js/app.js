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

// An error summary takes the focus as GOV.UK Frontend starts it (initAll, above). A page
// opened at an address with a #fragment (after the skip link, say) then has the browser move
// the focus to that fragment once the page has loaded, which leaves it on the body: give it
// back to the summary, so that the first thing read is what went wrong.
const errorSummary = document.querySelector('[data-module="govuk-error-summary"]');
if (errorSummary && window.location.hash) {
  window.addEventListener("load", () => {
    if (!document.activeElement || document.activeElement === document.body) {
      errorSummary.setAttribute("tabindex", "-1");
      errorSummary.focus();
    }
  }, { once: true });
}

// The update form (templates/updates/_fields.html): a percentage lower than the one the
// update last gave shows its warning, and the box to confirm it, as it is typed. The server
// checks it again on submit; this only says so sooner.
const lowerWarning = document.querySelector("[data-percent-lower-than]");
const percentInput = document.getElementById("percent_complete");
if (lowerWarning && percentInput) {
  const lowest = Number(lowerWarning.dataset.percentLowerThan);
  const checkPercent = () => {
    const typed = percentInput.value.trim().replace(/%$/, "").trim();
    const isLower = /^\d+$/.test(typed) && Number(typed) < lowest;
    lowerWarning.hidden = !isLower;
    const described = (percentInput.getAttribute("aria-describedby") || "")
      .split(" ").filter((id) => id && id !== lowerWarning.id);
    if (isLower) {
      described.push(lowerWarning.id);
    }
    percentInput.setAttribute("aria-describedby", described.join(" "));
  };
  percentInput.addEventListener("input", checkPercent);
  checkPercent();
}
