"""The phone keeps its cases by delta sync: after the first sync it sends its token, puts in
the cases that changed and drops the ones closed, and a phone upgraded from a bootstrap
without a token starts with a first sync."""

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Case
from app.models.vocab import CaseStatus
from tests.factories import make_case
from tests.helpers import sign_in_phone

pytestmark = pytest.mark.browser

CACHED = """async () => {
  const store = await import("/static/m/store.js");
  const data = await store.loadBootstrap();
  return { token: data.sync_token, ids: data.cases.map((c) => c.id) };
}"""
FORGET_TOKEN = """async () => {
  const store = await import("/static/m/store.js");
  const data = await store.loadBootstrap();
  delete data.sync_token;
  data.cases.push({ ...data.cases[0], id: 999999, number: "HJ-旧缓存" });
  await store.saveBootstrap(data);
}"""


def test_the_phone_applies_changes_and_removals(phone, live_server, city):
    first = city.cases["V11"]
    page = phone.new_page()
    syncs = []
    page.on("request", lambda r: syncs.append(r.url) if "/field/bootstrap" in r.url else None)
    sign_in_phone(page, live_server)
    expect(page.locator(f'li.task[data-number="{first.number}"]')).to_be_visible()
    token = page.evaluate(CACHED)["token"]
    assert token and syncs and all("since=" in url for url in syncs)

    db.session.get(Case, first.id).status = CaseStatus.CLOSED
    added = make_case(120.505, 32.311, title="新交办的噪声投诉")
    db.session.commit()
    syncs.clear()
    page.reload()
    expect(page.locator(f'li.task[data-number="{added.number}"]')).to_be_visible(timeout=15000)
    expect(page.locator(f'li.task[data-number="{first.number}"]')).to_have_count(0)
    assert any(f"since={token}" in url for url in syncs)
    cached = page.evaluate(CACHED)
    assert cached["ids"] == [added.id] and cached["token"] != token


def test_a_bootstrap_cached_before_delta_sync_is_replaced_by_a_first_sync(phone, live_server, city):
    page = phone.new_page()
    sign_in_phone(page, live_server)
    page.evaluate(FORGET_TOKEN)
    page.reload()
    # Wait for the first sync to have been stored (a token again), not just for the list: right
    # after the reload the list is empty before even the cache is drawn.
    page.wait_for_function("""async () => {
      const store = await import("/static/m/store.js");
      return Boolean((await store.loadBootstrap()).sync_token);
    }""", timeout=15000)
    expect(page.locator(f'li.task[data-number="{city.cases["V11"].number}"]')).to_be_visible()
    expect(page.locator('li.task[data-number="HJ-旧缓存"]')).to_have_count(0)
    cached = page.evaluate(CACHED)
    assert cached["ids"] == [city.cases["V11"].id] and cached["token"]
