// Print this report: a button with data-print-report calls the browser's print (which uses
// static/css/print.css).  The button starts hidden and is shown only when this module runs.
for (const button of document.querySelectorAll('[data-print-report]')) {
  button.hidden = false
  button.addEventListener('click', () => window.print())
}
