// regcred console: the little script the pages use. Everything works without it (the
// server renders every state); with it, the form shows only the inputs that apply, the
// type select re-renders the form at once, and Test Connection runs without reloading the
// form, so the secrets typed in it stay in the browser.
"use strict";

function valueOf(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return "";
  if (el.type === "checkbox") return el.checked ? "true" : "";
  return el.value;
}

function applyShowWhen(form) {
  form.querySelectorAll("[data-show-when]").forEach(function (box) {
    let conds;
    try { conds = JSON.parse(box.dataset.showWhen); } catch (e) { return; }
    const show = conds.some(function (c) {
      const v = valueOf(form, c.field);
      return c.set ? v !== "" : v === (c.equals || "");
    });
    box.hidden = !show;
  });
}

function setUp(form) {
  applyShowWhen(form);
  form.addEventListener("change", function () { applyShowWhen(form); });
  form.addEventListener("input", function () { applyShowWhen(form); });

  const retype = form.querySelector("[data-retype]");
  const retypeButton = form.querySelector("button.retype");
  if (retype && retypeButton) {
    // With the script, the type select re-renders the form by itself; the button (the
    // form's first, so Enter would press it) goes, and Enter saves.
    retypeButton.remove();
    retype.addEventListener("change", function () {
      const action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "retype";
      form.appendChild(action);
      form.submit();
    });
  }

  // A CA file chosen is pasted into the CA input, so Test Connection sees it too.
  const caFile = form.querySelector("#f-tls-caFile");
  const caText = form.querySelector("#f-tls-caBundle");
  if (caFile && caText) {
    caFile.addEventListener("change", function () {
      const f = caFile.files && caFile.files[0];
      if (!f) return;
      f.text().then(function (text) { caText.value = text.trim(); applyShowWhen(form); });
    });
  }

  const result = document.getElementById("test-result");
  form.addEventListener("submit", function (ev) {
    if (!ev.submitter || ev.submitter.value !== "test" || !result) return;
    ev.preventDefault();
    const body = new FormData(form);
    body.set("action", "test");
    body.delete("tls.caFile"); // pasted into the CA input already
    ev.submitter.disabled = true;
    result.setAttribute("aria-busy", "true");
    result.textContent = "Testing the connection…";
    // form.action would be the buttons named "action": read the attribute.
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new URLSearchParams(body),
      credentials: "same-origin",
      headers: { "X-Console-Fragment": "report" },
    }).then(function (resp) {
      if (!resp.ok) throw new Error("the console answered " + resp.status);
      return resp.text();
    }).then(function (html) {
      result.innerHTML = html;
    }).catch(function (err) {
      result.textContent = "The test could not run: " + err.message;
    }).finally(function () {
      ev.submitter.disabled = false;
      result.removeAttribute("aria-busy");
      const report = document.getElementById("test-report");
      if (report) { report.tabIndex = -1; report.focus(); }
    });
  });
}

// Copy buttons copy the text of the element they name (the registry ID).
function setUpCopy() {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      const el = document.getElementById(b.dataset.copy);
      if (!el || !navigator.clipboard) return;
      navigator.clipboard.writeText(el.textContent).then(function () { b.textContent = "Copied"; }, function () {});
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  const form = document.getElementById("registry-form");
  if (form) setUp(form);
  setUpCopy();
});
