// Parcours — the one script of the pages. Pages carry no inline script (their
// Content-Security-Policy forbids it): this file finds its work through data- attributes.
//
// The print button: any element with `data-imprimer` opens the print dialog.
//
// The live dashboard: the element with `data-flux` listens to that server-sent event stream;
// each "chiffres" event means the structure's figures changed, so the fragment at
// `data-chiffres` is fetched again and swapped in, without reloading the page.
"use strict";

// The print button of the Rapports page: the browser's print dialog, whose "save as PDF" gives
// the report as a file; the stylesheet's print rules leave the report alone on A4 pages.
document.querySelectorAll("[data-imprimer]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

(function () {
  const figures = document.querySelector("[data-flux]");
  if (!figures || !("EventSource" in window)) {
    return;
  }
  const status = document.getElementById("etat-direct");
  let running = false;
  let again = false;

  async function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const response = await fetch(figures.dataset.chiffres, { credentials: "same-origin", cache: "no-store" });
        if (response.redirected || response.status === 401 || response.status === 403) {
          // The session ended: the page itself now leads to the sign-in page.
          window.location.reload();
          return;
        }
        if (response.ok) {
          figures.innerHTML = await response.text();
          if (status) {
            const time = new Date().toLocaleTimeString("fr-FR");
            status.textContent = "Chiffres mis à jour à " + time + ".";
          }
        }
      } while (again);
    } catch (error) {
      // The network failed: the next change tries again.
    } finally {
      running = false;
    }
  }

  const source = new EventSource(figures.dataset.flux);
  source.addEventListener("chiffres", refresh);
  // The server ends the stream once the credential is revoked: stop reconnecting, say so.
  source.addEventListener("revoked", () => {
    source.close();
    if (status) {
      status.textContent = "Accès révoqué : reconnectez-vous pour suivre les chiffres en direct.";
    }
  });
})();
