// The login page: say so when the last attempt failed (the server redirects here with ?failed=1).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  if (new URLSearchParams(location.search).has("failed")) document.getElementById("failed").hidden = false;
});
