// The dashboard's filter: choosing a trust narrows the team list to that trust's teams (each
// team option carries data-trust, outcomes/forms.py TeamSelect). The server narrows it too when
// the form is sent, so this only saves a round trip.
(function () {
  "use strict";
  const form = document.getElementById("dashboard-filter");
  if (!form) return;
  const trust = form.querySelector("select[name=trust]");
  const team = form.querySelector("select[name=team]");
  if (!trust || !team) return;
  function narrow() {
    const chosen = trust.value;
    for (const option of team.options) {
      const owner = option.dataset.trust;
      const shown = !owner || !chosen || owner === chosen;
      option.hidden = !shown;
      option.disabled = !shown;
      if (!shown && option.selected) team.value = "";
    }
  }
  trust.addEventListener("change", narrow);
  narrow();
})();
