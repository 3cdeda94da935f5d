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
