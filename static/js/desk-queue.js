// Work queue: the village list follows the town chosen, and one box ticks the whole page.
const town = document.getElementById("queue-town");
const village = document.getElementById("queue-village");

function followTown() {
  for (const option of village.options) {
    if (!option.value) continue;
    const shown = !town.value || option.dataset.town === town.value;
    option.hidden = !shown;
    option.disabled = !shown;
    if (!shown && option.selected) village.value = "";
  }
}

if (town && village) {
  town.addEventListener("change", followTown);
  followTown();
}

const selectAll = document.getElementById("select-all");
if (selectAll) {
  selectAll.addEventListener("change", () => {
    for (const box of document.querySelectorAll('#bulk input[name="case_id"]')) box.checked = selectAll.checked;
  });
}
