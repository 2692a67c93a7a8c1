"""To Do (lists, tasks, delta, linkedResources), mail folders/messages/move, and the demo."""

import base64
import datetime as dt

from sandbox.graph import GraphEmulator
from sandbox.graph.demo import seed_demo_mailbox

from .conftest import ANN

NOW = dt.datetime(2024, 5, 8, 12, 0, tzinfo=dt.UTC)


def test_it_manages_todo_lists_and_tasks_through_o365(graph, account, api):
    acct, _ = account
    todo = acct.tasks()
    folder = todo.new_folder("Salesforce Tasks")
    task = folder.new_task("Call Maria")
    assert task.save()
    task.mark_completed()
    task.save()
    [stored] = api.get(f"me/todo/lists/{folder.folder_id}/tasks")["value"]
    assert stored["status"] == "completed" and stored["completedDateTime"]["timeZone"] == "UTC"
    found = api.get("me/todo/lists", **{"$filter": "displayName eq 'Salesforce Tasks'"})
    assert [f["id"] for f in found["value"]] == [folder.folder_id]


def test_it_runs_task_delta_with_linked_resources(graph, api):
    app = graph.app
    lst = app.create_todo_list(ANN, "Salesforce Tasks")
    made = api.post(
        f"me/todo/lists/{lst['id']}/tasks",
        {
            "title": "Follow up",
            "status": "notStarted",
            "linkedResources": [
                {
                    "applicationName": "Salesforce",
                    "displayName": "Task 00T1",
                    "externalId": "00T1",
                    "webUrl": "https://sf.example/00T1",
                }
            ],
        },
    )
    links = api.get(f"me/todo/lists/{lst['id']}/tasks/{made['id']}/linkedResources")["value"]
    assert links[0]["externalId"] == "00T1"
    gone = app.create_task(ANN, lst["id"], {"title": "Temp"})
    path = f"me/todo/lists/{lst['id']}/tasks/delta"
    rows, link = api.rounds(path)
    assert sorted(r["title"] for r in rows) == ["Follow up", "Temp"]
    app.update_task(ANN, lst["id"], made["id"], {"status": "waitingOnOthers"})
    app.delete_task(ANN, lst["id"], gone["id"])
    fleeting = app.create_task(ANN, lst["id"], {"title": "Fleeting"})
    app.delete_task(ANN, lst["id"], fleeting["id"])  # born and gone between rounds: unseen
    page = api.get(link)
    by_id = {r["id"]: r for r in page["value"]}
    assert by_id[made["id"]]["status"] == "waitingOnOthers"
    assert by_id[gone["id"]]["@removed"] == {"reason": "deleted"}
    assert len(by_id) == 2


def test_it_serves_mail_folders_messages_attachments_and_moves(graph, api):
    seeded = seed_demo_mailbox(graph.app, ANN)
    folder = api.get("me/mailFolders", **{"$filter": "displayName eq 'Salesforce Emails'"})[
        "value"
    ][0]
    assert folder["id"] == seeded["salesforce_emails_folder"] and folder["totalItemCount"] == 3
    msgs = api.get(f"me/mailFolders/{folder['id']}/messages")["value"]
    with_att = next(m for m in msgs if m["hasAttachments"])
    [att] = api.get(f"me/messages/{with_att['id']}/attachments")["value"]
    assert base64.b64decode(att["contentBytes"]).startswith(b"%PDF") and att["isInline"] is False
    mime = api.con.get(api.url + f"me/messages/{with_att['id']}/$value")
    assert b"Subject: Quote Q-1000" in mime.content

    _, link = api.rounds(f"me/mailFolders/{folder['id']}/messages/delta")
    moved = api.post(f"me/messages/{with_att['id']}/move", {"destinationId": "inbox"})
    assert moved["id"] != with_att["id"]  # REST ids change on move
    immutable = {"Prefer": 'IdType="ImmutableId"'}
    first = api.get(f"me/messages/{moved['id']}", headers=immutable)
    again = api.post(
        f"me/messages/{first['id']}/move", {"destinationId": "archive"}, headers=immutable
    )
    assert again["id"] == first["id"]  # immutable ids survive moves
    page = api.get(link)
    assert page["value"] == [{"id": with_att["id"], "@removed": {"reason": "changed"}}]


def test_it_seeds_a_deterministic_demo_mailbox_without_the_salesforce_folder():
    def seed():
        app = GraphEmulator()
        app.add_mailbox(ANN, "Ann Smith")
        return app, seed_demo_mailbox(app, ANN, now=NOW)

    (app, one), (_, two) = seed(), seed()
    assert one == two
    box = app.mailbox(ANN)
    assert all(f["displayName"] != "Salesforce Contacts" for f in box.contact_folders.values())
    assert any(e["type"] == "seriesMaster" for e in one["events"])
    assert any(e["isAllDay"] for e in one["events"])
    assert any("Salesforce" in e["categories"] for e in one["events"])
    assert [c["displayName"] for c in box.categories.values()] == ["Salesforce", "Customer"]
