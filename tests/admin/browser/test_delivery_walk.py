"""Staff open a failing delivery, read its attempts, and replay it from its own page (issue 29 item 7)."""

import pytest

from outbox.models import DeliveryStatus
from tests.admin.browser.conftest import shot, sign_in
from tests.admin.conftest import STAFF_PASSWORD
from tests.admin.test_delivery_attempts_admin import delivery_with_attempts

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_read_a_dead_deliverys_attempts_and_replay_it(page, operator):
    delivery = delivery_with_attempts(DeliveryStatus.DEAD)
    sign_in(page, "operator@aza8.com", STAFF_PASSWORD)

    page.goto("/admin/outbox/webhookdelivery/?status__exact=dead")
    assert page.locator("#result_list tbody tr").count() == 1
    shot(page, "delivery-01-dead-deliveries")

    with page.expect_navigation():
        page.click("#result_list tbody tr th a")
    assert f"delivery {delivery.pk} (dead)" in page.inner_text("#content h2")
    attempts = page.locator(".field-attempts table")
    assert attempts.locator("tbody tr").count() == 2
    assert "HTTP 500" in attempts.inner_text() and "timed out" in attempts.inner_text()
    assert "no answer" in attempts.inner_text() and "UTC" in attempts.inner_text()
    page.click(".field-attempts summary")  # the receiver's answer, escaped, unfolded
    assert "<b>database down</b>" in attempts.locator("pre").inner_text()
    shot(page, "delivery-02-attempts")

    with page.expect_navigation():
        page.click("#replay-delivery button")
    assert "1 requeued." in page.inner_text(".messagelist")
    assert page.url.endswith(f"/admin/outbox/webhookdelivery/{delivery.pk}/change/")
    shot(page, "delivery-03-replayed")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts.count() == 2  # the history stays


def test_support_sees_the_attempts_but_no_replay(page, seeded, make_staff):
    from identity.staff_roles import SUPPORT

    make_staff(SUPPORT, email="support@aza8.com")
    delivery = delivery_with_attempts(DeliveryStatus.DEAD)
    sign_in(page, "support@aza8.com", STAFF_PASSWORD)
    page.goto(f"/admin/outbox/webhookdelivery/{delivery.pk}/change/")
    assert page.locator(".field-attempts tbody tr").count() == 2
    assert page.locator("#replay-delivery").count() == 0
