// What changed for me: the bootstrap's `news` (my unread notifications: new tasks, 催办, 督办…)
// drawn as a badge on the 任务 tab, a short list above the tasks, and a 新 mark on each task
// it is about. "知道了" marks them read on the server; offline, they stay until the next try.

import * as api from "./api.js";
import { $, h, showTime } from "./util.js";

/** Draw the news of the cached bootstrap (nothing for one cached before it carried news). */
export function renderNews(data) {
  const news = (data && data.news) || { unread: 0, items: [] };
  const badge = $("tasks-badge");
  badge.textContent = news.unread ? String(news.unread) : "";
  badge.hidden = !news.unread;
  badge.setAttribute("aria-label", `新消息 ${news.unread} 条`);
  $("news").hidden = news.items.length === 0;
  $("news-count").textContent = String(news.unread);
  $("news-seen").textContent = "知道了";
  $("news-list").replaceChildren(...news.items.map((item) => h("li", { class: `news-item kind-${item.kind}` },
    h("strong", {}, item.kind_label), " ", item.message,
    h("small", { class: "muted" }, ` ${showTime(item.created_at)}`))));
  const fresh = new Set(news.items.map((item) => item.case_id).filter(Boolean));
  for (const task of document.querySelectorAll("#task-list li.task")) {
    const isNew = fresh.has(Number(task.dataset.caseId));
    task.classList.toggle("is-new", isNew);
    const head = task.querySelector(".task-head");
    if (isNew && !head.querySelector(".chip.new")) head.prepend(h("span", { class: "chip new" }, "新"));
  }
}

/** "知道了": mark the shown news read on the server, then clear it here (and in `save`d data). */
export function initNews(getData, save) {
  $("news-seen").addEventListener("click", async () => {
    const data = getData();
    const ids = ((data && data.news && data.news.items) || []).map((item) => item.id);
    try {
      const me = await api.json("GET", "/api/v1/me");
      const summary = await api.json("POST", "/api/v1/notifications/read", { ids }, me.csrf_token);
      data.news = summary;
      await save(data);
      renderNews(data);
    } catch (error) {
      $("news-seen").textContent = "网络不通，稍后再试";
    }
  });
}
