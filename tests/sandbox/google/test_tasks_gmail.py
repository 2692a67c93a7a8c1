"""Tasks v1 and Gmail v1 through google-api-python-client over HTTPS."""

import base64
from datetime import UTC, datetime

import pytest
from googleapiclient.errors import HttpError

from .conftest import ALICE


def test_it_polls_tasks_with_updated_min_show_deleted_and_show_hidden(google, api):
    tasks = api("tasks", "v1")
    google.app.set_clock(datetime(2030, 1, 1, 12, tzinfo=UTC))
    tl = tasks.tasklists().insert(body={"title": "Salesforce Tasks"}).execute()
    assert "Salesforce Tasks" in [t["title"] for t in tasks.tasklists().list().execute()["items"]]
    t1 = (
        tasks.tasks()
        .insert(
            tasklist=tl["id"],
            body={"title": "Call", "notes": "n", "due": "2030-01-05T15:30:00.000Z"},
        )
        .execute()
    )
    assert t1["due"] == "2030-01-05T00:00:00.000Z"  # only the date is kept
    t2 = google.app.create_task(ALICE, tl["id"], {"title": "Mail"})
    t3 = google.app.create_task(ALICE, tl["id"], {"title": "Old"})
    with pytest.raises(HttpError):
        tasks.tasks().insert(tasklist=tl["id"], body={"title": "x", "notes": "n" * 8193}).execute()

    google.app.set_clock(datetime(2030, 1, 2, 12, tzinfo=UTC))
    mark = "2030-01-02T00:00:00.000Z"
    google.app.update_task(ALICE, tl["id"], t2["id"], {"status": "completed"}, via_ui=True)
    tasks.tasks().delete(tasklist=tl["id"], task=t3["id"]).execute()

    def titles(**kw):
        return sorted(
            t["title"]
            for t in tasks.tasks().list(tasklist=tl["id"], **kw).execute().get("items", [])
        )

    assert titles() == ["Call"]  # completed-in-UI is hidden, deleted is gone
    assert titles(updatedMin=mark) == []
    assert titles(updatedMin=mark, showDeleted=True, showHidden=True) == ["Mail", "Old"]
    done = tasks.tasks().get(tasklist=tl["id"], task=t2["id"]).execute()
    assert done["status"] == "completed" and done["completed"].startswith("2030-01-02")
    assert titles(dueMin="2030-01-05T00:00:00Z", dueMax="2030-01-06T00:00:00Z") == ["Call"]
    tasks.tasks().patch(tasklist=tl["id"], task=t1["id"], body={"status": "completed"}).execute()
    tasks.tasks().clear(tasklist=tl["id"]).execute()
    assert titles() == []
    assert titles(showHidden=True) == ["Call", "Mail"]
    page = tasks.tasks().list(tasklist=tl["id"], maxResults=1, showHidden=True).execute()
    assert len(page["items"]) == 1 and page["nextPageToken"]


def test_it_serves_gmail_labels_messages_and_history_rounds(google, api):
    gmail = api("gmail", "v1")
    label = gmail.users().labels().create(userId="me", body={"name": "Salesforce Emails"}).execute()
    with pytest.raises(HttpError) as exc:
        gmail.users().labels().create(userId="me", body={"name": "Salesforce Emails"}).execute()
    assert exc.value.resp.status == 409
    start = gmail.users().getProfile(userId="me").execute()["historyId"]

    mid = google.app.add_message(
        ALICE,
        sender="Ada <ada@acme.example>",
        to=[ALICE],
        cc=["bob@acme.example"],
        subject="Order",
        text="Signed order attached.",
        html="<p>Signed</p>",
        attachments=[("order.pdf", "application/pdf", b"%PDF-1.4 x")],
        label_ids=["INBOX", label["id"]],
    )
    other = google.app.add_message(
        ALICE, sender="x@y.example", to=[ALICE], subject="Other", text="hi"
    )
    listed = gmail.users().messages().list(userId="me", labelIds=[label["id"]]).execute()
    assert [m["id"] for m in listed["messages"]] == [mid]
    assert (
        gmail.users()
        .messages()
        .list(userId="me", q="label:salesforce-emails from:ada")
        .execute()["messages"][0]["id"]
        == mid
    )

    full = gmail.users().messages().get(userId="me", id=mid, format="full").execute()
    headers = {h["name"]: h["value"] for h in full["payload"]["headers"]}
    assert headers["Subject"] == "Order" and headers["Message-ID"].startswith("<")
    assert {"From", "To", "Cc", "Date"} <= set(headers)
    att = next(p for p in full["payload"]["parts"] if p["filename"] == "order.pdf")
    data = (
        gmail.users()
        .messages()
        .attachments()
        .get(userId="me", messageId=mid, id=att["body"]["attachmentId"])
        .execute()
    )
    assert base64.urlsafe_b64decode(data["data"] + "==") == b"%PDF-1.4 x"
    raw = gmail.users().messages().get(userId="me", id=mid, format="raw").execute()["raw"]
    assert b"Subject: Order" in base64.urlsafe_b64decode(raw + "==")

    hist = gmail.users().history().list(userId="me", startHistoryId=start).execute()
    added = [h["messagesAdded"][0]["message"] for h in hist["history"]]
    assert [m["id"] for m in added] == [mid, other]
    assert label["id"] in added[0]["labelIds"]
    only_label = (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, labelId=label["id"])
        .execute()
    )
    assert len(only_label["history"]) == 1
    start = hist["historyId"]

    gmail.users().messages().modify(
        userId="me", id=mid, body={"removeLabelIds": [label["id"]], "addLabelIds": ["STARRED"]}
    ).execute()
    hist = (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, historyTypes=["labelRemoved"])
        .execute()
    )
    assert hist["history"][0]["labelsRemoved"][0]["labelIds"] == [label["id"]]
    assert int(hist["historyId"]) > int(start)
    assert (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=hist["historyId"])
        .execute()
        .get("history")
        is None
    )

    google.app.expire_history(ALICE)
    with pytest.raises(HttpError) as exc:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert exc.value.resp.status == 404


def test_it_keeps_gmail_history_for_the_guaranteed_week_only(google, api):
    """History records are "typically available for at least one week": after more than a
    week, a startHistoryId from before the oldest dropped record answers 404."""
    from datetime import UTC, datetime

    google.app.set_clock(datetime(2030, 3, 1, 9, 0, tzinfo=UTC))
    gmail = api("gmail", "v1")
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    google.app.add_message(ALICE, sender="ada@acme.example", to=[ALICE], subject="1", text="x")
    google.app.advance_clock(days=6)
    fresh = gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert len(fresh["history"]) == 1
    later = fresh["historyId"]
    google.app.add_message(ALICE, sender="ada@acme.example", to=[ALICE], subject="2", text="x")
    google.app.advance_clock(days=2)  # the first record is now 8 days old
    with pytest.raises(HttpError) as exc:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert exc.value.resp.status == 404
    # A cursor taken after the dropped record still works.
    assert (
        len(gmail.users().history().list(userId="me", startHistoryId=later).execute()["history"])
        == 1
    )
