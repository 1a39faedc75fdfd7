// The order countdown: ticks every second and says "Order expired" at zero, when the payment form
// is disabled too. The pages work without it; it only keeps the countdown live.
(function () {
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick(el) {
    var left = Math.floor((Date.parse(el.dataset.expiresAt) - Date.now()) / 1000);
    if (left <= 0) {
      el.textContent = "Order expired";
      var form = document.getElementById("pay");
      if (form) {
        var button = document.getElementById("pay-button");
        if (button) { button.disabled = true; }
        form.setAttribute("aria-disabled", "true");
      }
      return false;
    }
    el.textContent = Math.floor(left / 60) + ":" + pad(left % 60) + " left";
    return true;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("countdown");
    if (!el || !el.dataset.expiresAt) { return; }
    if (!tick(el)) { return; }
    var timer = setInterval(function () { if (!tick(el)) { clearInterval(timer); } }, 1000);
  });
})();
