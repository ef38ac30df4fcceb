// The wall's side panels: big numbers and small bar charts built with DOM calls (the
// Content-Security-Policy allows no inline style attributes; widths are set through the
// CSSOM, which it allows).

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function figure(label, value, tone = "") {
  const box = el("div", `figure ${tone}`);
  box.append(el("span", "figure-value", value), el("span", "figure-label", label));
  return box;
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${value.toFixed(1)}%`;
}

/** Horizontal bars: rows of [label, value], scaled to the largest. Label, bar and figure
 *  are cells of one CSS grid whose label column is as wide as the longest label, so a long
 *  label ("按时现场核查") never runs into its bar at any screen size. */
function bars(rows, { tone = "blue", format = String } = {}) {
  const grid = el("div", `bars bars-${tone}`);
  const max = Math.max(1, ...rows.map(([, value]) => value || 0));
  rows.forEach(([label, value]) => {
    const track = el("span", "bar-track");
    const bar = el("span", "bar-fill");
    bar.style.width = `${Math.max(1, (100 * (value || 0)) / max).toFixed(1)}%`;
    track.append(bar);
    grid.append(el("span", "bar-label", label), track, el("span", "bar-value", format(value)));
  });
  return grid;
}

function fill(id, ...children) {
  const body = document.querySelector(`#${id} .panel-body`);
  body.replaceChildren(...children);
}

/** The campaign phase line in the header. */
export function renderPhase(phase) {
  const line = document.getElementById("phase");
  line.textContent = phase
    ? `${phase.campaign_name} · ${phase.phase_name}（本阶段至 ${phase.ends_on}，距行动结束 ${phase.days_left} 天）`
    : "未配置攻坚行动";
}

/** The period every panel covers, stated under each panel's title and in the header
 *  (the same period as the campaign pages: the running campaign, else the last 30 days,
 *  or the dates picked in the filters). */
function renderPeriod(period) {
  const header = document.getElementById("period");
  // Dates never break at their hyphens: each one is kept whole (「2026-12-」/「31」 read badly).
  header.replaceChildren("统计期间：");
  period.label.split(/(\d{4}-\d{2}-\d{2})/).forEach((part, index) =>
    header.append(index % 2 ? el("span", "nowrap", part) : part));
  header.append(`（${period.short_name}）`);
  header.title = period.heading;
  document.querySelectorAll(".panel[data-period]").forEach((panel) => {
    let line = panel.querySelector(".panel-period");
    if (!line) {
      line = el("small", "panel-period");
      panel.querySelector("h2").append(" ", line);
    }
    line.textContent = period.short_label;
  });
}

/** A score as the campaign pages print it: 「20.0」, 「18.1」, 「16.84」 (never a bare 「20」 beside them). */
export function scoreText(score) {
  return Number.isInteger(score) ? score.toFixed(1) : String(score);
}

/** Every panel from GET /api/v1/wall/panels. */
export function renderPanels(data) {
  const c = data.counts;
  renderPhase(data.phase);
  renderPeriod(data.period);
  const change = c.last_period ? ((100 * (c.this_period - c.last_period)) / c.last_period).toFixed(1) : null;
  fill("panel-totals", figure("本期受理", c.this_period.toLocaleString("zh-CN")),
    figure("去年同期", c.last_period.toLocaleString("zh-CN")),
    figure("同比", change === null ? "—" : `${change > 0 ? "+" : ""}${change}%`, change > 0 ? "bad" : "good"));
  const closedShare = c.open + c.closed ? (100 * c.closed) / (c.open + c.closed) : 0;
  const meter = el("div", "meter");
  const meterFill = el("div", "meter-fill");
  meterFill.style.width = `${closedShare.toFixed(1)}%`;
  meter.append(meterFill);
  // 已销号 + 未办结 + the cases declined or transferred at intake = 本期受理: the note closes the sum.
  const ended = c.this_period - c.open - c.closed;
  const note = el("span", "panel-note", ended > 0 ? `另不予受理、转送 ${ended.toLocaleString("zh-CN")} 件` : "");
  const meterLine = el("div", "meter-line");
  meterLine.append(meter, note);
  fill("panel-progress", figure("已销号", c.closed.toLocaleString("zh-CN"), "good"),
    figure("未办结", c.open.toLocaleString("zh-CN")), figure("销号率", `${closedShare.toFixed(1)}%`), meterLine);
  // A period that has ended: its intake's overdue cases are counted as of now, the ranking's as
  // of the period's end; each label says which.
  const endedOn = Date.parse(data.period.end) <= Date.now() ? data.period.last_day.slice(5) : null;
  fill("panel-difficult", figure(endedOn ? "至今超期" : "超期", c.overdue.toLocaleString("zh-CN"), "bad"),
    figure("越级访", c.above_level.toLocaleString("zh-CN"), "bad"), figure("重复访", c.repeat.toLocaleString("zh-CN")),
    // The list as it stands now, whenever its cases came in: not the period's (the label says so).
    figure("现有久拖不解", c.long_unresolved.toLocaleString("zh-CN"), "bad long"));
  const r = c.rates;
  fill("panel-rates", bars([["按时签收", r.sign_on_time], ["按时现场核查", r.onsite_on_time],
    ["一次化解", r.first_time_resolution], ["满意率", r.satisfaction]], { tone: "green", format: percent }));
  fill("panel-categories", bars(data.top_categories.map((t) => [t.label, t.count]),
    { tone: "blue", format: (v) => v.toLocaleString("zh-CN") }));
  renderTowns(data.towns, endedOn);
}

// The ranking shows this many rows of towns at most, the last TOWN_TAIL of them the lowest.
const TOWN_ROWS = 8;
const TOWN_TAIL = 4;

function renderTowns(towns, endedOn = null) {
  const table = el("table", "towns");
  const head = el("tr");
  // The ranking's overdue count is each town's backlog too (cases received before the period
  // and still late), not only the period's intake as in the headline's 超期, and for a period
  // that has ended, those late by its last day (scoring.town_ranking): the header says so.
  const overdue = endedOn ? `超期(含积案，截至${endedOn})` : "现超期(含积案)";
  ["#", "镇（街道）", "得分", "越级访", overdue].forEach((title) => head.append(el("th", "", title)));
  table.append(head);
  const row = (cells, className = "") => {
    const tr = el("tr", className);
    cells.forEach((value) => tr.append(el("td", "", String(value ?? "—"))));
    table.append(tr);
  };
  // Every town when they fit; else the first and the last (the accountability end), with the
  // rest counted. The total row sums every town, so it equals the headline's 越级访.
  const ranked = towns.map((town, index) => [index + 1, town]);
  const shown = ranked.length <= TOWN_ROWS ? ranked
    : [...ranked.slice(0, TOWN_ROWS - TOWN_TAIL - 1), null, ...ranked.slice(-TOWN_TAIL)];
  for (const item of shown) {
    if (item === null) {
      row(["⋯", `另 ${ranked.length - TOWN_ROWS + 1} 个`, "", "", ""], "towns-gap");
      continue;
    }
    const [rank, town] = item;
    row([rank, town.town_name, scoreText(town.score), town.above_level, town.overdue]);
  }
  const sum = (key) => towns.reduce((total, town) => total + (town[key] || 0), 0);
  row(["", `合计 ${towns.length} 个`, "", sum("above_level"), sum("overdue")], "towns-total");
  fill("panel-towns", table);
}
