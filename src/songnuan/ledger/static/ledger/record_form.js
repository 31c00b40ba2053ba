// The help record form: shows the parts that concern the recipient kind chosen (a file of the archive, a
// person, an enterprise) and the cash reason only for cash. Without this script every field stays visible,
// and the server decides what applies either way (songnuan.ledger.services.check_help).
(function () {
  "use strict";
  var form = document.getElementById("record-form");
  if (!form) return;
  var parts = {
    household: ["household-part"],
    person: ["field-name", "field-id_number", "field-person_category"],
    enterprise: ["field-name", "field-credit_code", "field-enterprise_kind"],
  };
  var all = ["household-part", "field-name", "field-id_number", "field-person_category", "field-credit_code", "field-enterprise_kind"];
  function element(name) {
    return document.getElementById(name) || form.querySelector("." + name);
  }
  function update() {
    var checked = form.querySelector("input[name=recipient_kind]:checked");
    var kind = checked ? checked.value : "household";
    all.forEach(function (name) {
      var el = element(name);
      // A field with an error stays visible whatever was chosen.
      if (el) el.hidden = parts[kind].indexOf(name) < 0 && !el.querySelector(".errorlist");
    });
    var channel = form.querySelector("select[name=channel]");
    var reason = element("field-cash_reason");
    if (channel && reason) reason.hidden = channel.value !== "cash" && !reason.querySelector(".errorlist");
  }
  form.addEventListener("change", update);
  update();
})();
