// Source page: the tracks of the last patrols that checked in at this source, on the source's
// village grid, with a link to each patrol.
import { sourceMap } from "./desk-map.js";

const TRACK_STYLE = { weight: 4, opacity: 0.85 };
const SHADES = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037"];

function listItem(feature, patrolUrl) {
  const { patrol_id: id, inspector, started_at: startedAt, distance_m: metres } = feature.properties;
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = patrolUrl.replace("00000000-0000-0000-0000-000000000000", id);
  link.textContent = new Date(startedAt).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  item.append(link, ` ${inspector} · ${(metres / 1000).toFixed(2)} 公里`);
  return item;
}

async function showTracks(section) {
  const element = section.querySelector(".map");
  const list = section.querySelector(".track-list");
  const map = sourceMap(element);
  const response = await fetch(section.dataset.tracksUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`tracks: ${response.status}`);
  const tracks = await response.json();
  tracks.features.forEach((feature, n) => {
    window.L.geoJSON(feature, { style: () => ({ ...TRACK_STYLE, color: SHADES[n % SHADES.length] }) }).addTo(map);
    list.append(listItem(feature, section.dataset.patrolUrl));
  });
  section.querySelector(".tracks-empty").hidden = tracks.features.length > 0;
  element.dataset.tracks = String(tracks.features.length);
}

const section = document.getElementById("patrol-tracks");
if (section) {
  showTracks(section).catch(() => {
    section.querySelector(".tracks-empty").textContent = "巡查轨迹加载失败，请刷新重试。";
  });
}
