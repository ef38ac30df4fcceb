// Intake form: pick the location on the grid map or type it (in any coordinate system),
// convert local time to an absolute time, and offer earlier cases as possible repeats.
import { locationPicker } from "./desk-map.js";

const form = document.getElementById("intake-form");
const field = (name) => form.elements.namedItem(name);
const { typedPoint } = locationPicker(form, document.getElementById("pick-map"), {
  marker: (latLng) => window.L.marker(latLng),
  onChange: () => findRepeats(),
});
for (const name of ["category", "petitioner_phone"]) field(name).addEventListener("change", findRepeats);

field("received_at_local").addEventListener("change", (event) => {
  field("received_at").value = event.target.value ? new Date(event.target.value).toISOString() : "";
});

async function findRepeats() {
  const box = document.getElementById("repeat-candidates");
  const point = typedPoint();
  if (!point || !field("category").value) return;
  const query = new URLSearchParams({ lon: point[0], lat: point[1], category: field("category").value });
  if (field("petitioner_phone").value) query.set("phone", field("petitioner_phone").value);
  const response = await fetch(`${box.dataset.url}?${query}`, { credentials: "same-origin" });
  if (!response.ok) return;
  const candidates = await response.json();
  box.replaceChildren(...renderCandidates(candidates));
}

function renderCandidates(candidates) {
  if (candidates.length === 0) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = "未发现疑似重复件。";
    return [none];
  }
  const title = document.createElement("p");
  title.textContent = `发现 ${candidates.length} 件疑似重复件，如属重复请选择原件：`;
  const items = candidates.map((c) => {
    const label = document.createElement("label");
    label.className = "check";
    const radio = Object.assign(document.createElement("input"), { type: "radio", name: "repeat_pick", value: c.id });
    radio.addEventListener("change", () => { field("repeat_of_id").value = c.id; });
    label.append(radio, ` ${c.number} ${c.title}（${c.reason}）`);
    return label;
  });
  const none = document.createElement("label");
  none.className = "check";
  const radio = Object.assign(document.createElement("input"), { type: "radio", name: "repeat_pick", value: "", checked: true });
  radio.addEventListener("change", () => { field("repeat_of_id").value = ""; });
  none.append(radio, " 不是重复件");
  return [title, ...items, none];
}
