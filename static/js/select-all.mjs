// Select All: a checkbox with data-select-all="<name>" ticks or clears every checkbox of that
// name in its form.  Lists show the checkbox only when this module runs (it starts hidden).
for (const box of document.querySelectorAll('input[type="checkbox"][data-select-all]')) {
  const wrapper = box.closest('.cqrs-select-all')
  if (wrapper) wrapper.hidden = false
  const targets = () => box.form
    ? box.form.querySelectorAll(`input[type="checkbox"][name="${box.dataset.selectAll}"]`)
    : []
  box.addEventListener('change', () => {
    for (const target of targets()) target.checked = box.checked
  })
}
