// Admin pages: a button with data-confirm asks before its form is sent (no inline script: CSP).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
