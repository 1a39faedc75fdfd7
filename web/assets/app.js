// What the pages do with JavaScript; each works without it.
// - The order countdown ticks every second and says "Order expired" at zero, when the payment
//   form is disabled too.
// - With the event bus (an element with data-live), the pages follow changes through server-sent
//   events: the listing drops a ticket the moment it is reserved and shows it again when it is
//   freed; the order page shows what happened to the order (paid, expired, cancelled) as it
//   happens. Every stream starts with a snapshot, so a page that reconnects catches up.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  var countdownTimer = null;

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

  function startCountdown() {
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    var el = document.getElementById("countdown");
    if (!el || !el.dataset.expiresAt) { return; }
    if (!tick(el)) { return; }
    countdownTimer = setInterval(function () {
      if (!tick(el)) { clearInterval(countdownTimer); countdownTimer = null; }
    }, 1000);
  }

  // A price (a JSON number of dollars) as the server writes it: $19.99.
  function money(price) { return "$" + Number(price).toFixed(2); }

  // The listing: `ul#tickets` holds one `li[data-ticket-id]` per ticket for sale, newest first.
  function followListing(list) {
    var empty = document.getElementById("no-tickets");
    var versions = {};

    function itemOf(ticket) {
      var li = document.createElement("li");
      li.dataset.ticketId = ticket.id;
      li.dataset.version = ticket.version;
      var link = document.createElement("a");
      link.href = "/tickets/" + encodeURIComponent(ticket.id);
      link.textContent = ticket.title;
      var price = document.createElement("span");
      price.className = "price";
      price.textContent = money(ticket.price);
      li.appendChild(link);
      li.appendChild(price);
      return li;
    }

    function find(id) {
      for (var i = 0; i < list.children.length; i++) {
        if (list.children[i].dataset.ticketId === id) { return list.children[i]; }
      }
      return null;
    }

    function show(ticket) {
      var shown = find(ticket.id);
      if (shown && shown.dataset.version === String(ticket.version)) { return; }
      var item = itemOf(ticket);
      if (shown) { list.replaceChild(item, shown); } else { list.insertBefore(item, list.firstChild); }
    }

    function drop(id) {
      var shown = find(id);
      if (shown) { list.removeChild(shown); }
    }

    function settle() { if (empty) { empty.hidden = list.children.length > 0; } }

    // A ticket's event: for sale (no order holds it) or not, unless it is older than what the
    // page knows.
    function apply(ticket) {
      if (versions[ticket.id] !== undefined && ticket.version <= versions[ticket.id]) { return; }
      versions[ticket.id] = ticket.version;
      if (ticket.orderId) { drop(ticket.id); } else { show(ticket); }
      settle();
    }

    var source = new EventSource(list.dataset.live);
    source.addEventListener("snapshot", function (e) {
      var tickets = JSON.parse(e.data); // oldest first
      var forSale = {};
      versions = {};
      tickets.forEach(function (t) { forSale[t.id] = true; versions[t.id] = t.version; });
      Array.prototype.slice.call(list.children).forEach(function (li) {
        if (!forSale[li.dataset.ticketId]) { list.removeChild(li); }
      });
      tickets.forEach(show);
      settle();
    });
    ["ticket:created", "ticket:updated"].forEach(function (kind) {
      source.addEventListener(kind, function (e) { apply(JSON.parse(e.data)); });
    });
  }

  // The order page: `#order` says the order's status; on any change, the page's content is
  // fetched again and put in place (no reload, no form sent again).
  function followOrder(card) {
    var source = new EventSource(card.dataset.live);
    var fetching = false;

    function refresh() {
      if (fetching) { return; }
      fetching = true;
      fetch(window.location.pathname, { headers: { accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          fetching = false;
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
          var main = document.getElementById("main");
          if (!fresh || !main) { return; }
          main.innerHTML = fresh.innerHTML;
          startCountdown();
          var order = document.getElementById("order");
          // An order that ended has nothing more to follow.
          if (!order || !order.dataset.live) { source.close(); }
        })
        .catch(function () { fetching = false; });
    }

    source.addEventListener("snapshot", function (e) {
      var order = JSON.parse(e.data);
      var shown = document.getElementById("order");
      if (!shown || shown.dataset.status !== order.status) { refresh(); }
    });
    ["order:cancelled", "expiration:complete", "payment:created"].forEach(function (kind) {
      source.addEventListener(kind, refresh);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdown();
    if (!window.EventSource) { return; }
    var list = document.querySelector("ul#tickets[data-live]");
    if (list) { followListing(list); }
    var order = document.querySelector("#order[data-live]");
    if (order) { followOrder(order); }
  });
})();
