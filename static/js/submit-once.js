// A form posts once: while the page waits for the answer a second submit is dropped and the
// submit buttons are disabled, so a double click on 交办 or 批量签收 sends one request, not a
// second one that the first has made impossible ("案件当前为「已交办」，不能交办"). Forms a
// script sends itself (the event is cancelled) are left alone; coming back to the page
// (browser "back") makes them usable again.

window.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
  if (form.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  form.setAttribute("aria-busy", "true");
  // After this turn, so the clicked button's name and value still go with the form.
  setTimeout(() => {
    form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")
      .forEach((button) => { button.disabled = true; });
  });
});

window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[aria-busy=true]").forEach((form) => {
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type=submit]").forEach((button) => { button.disabled = false; });
  });
});
