"""What the public API gives away: a numeric id or another booking's token finds nothing and changes nothing, and
no public answer shows another invitee, their notes or the host's e-mail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.test_public_api import BOOK, MONDAY, SLOTS, booking_body


def test_a_numeric_id_or_another_bookings_token_is_a_404_and_changes_nothing(client: TestClient, ada: dict) -> None:
    mine = client.post(BOOK, json=booking_body('10:00')).json()
    theirs = client.post(BOOK, json=booking_body('11:00', name='Alan Turing', email='alan@example.com')).json()
    their_token = theirs['manage_url'].split('token=')[1]
    for uid, token in (('1', their_token), (str(ada['call'].id), their_token), (mine['uid'], their_token)):
        for action, body in (('cancel', {'token': token}), ('reschedule', {'token': token, 'start': mine['start']})):
            r = client.post(f'/public/bookings/{uid}/{action}', json=body)
            assert r.status_code == 404 and r.json() == {'detail': 'This link is not valid'}, (uid, action)
    for booked in (mine, theirs):
        assert client.get(f'/bookings/{booked["uid"]}', headers=ada['auth']).json()['status'] == 'confirmed'


def test_public_answers_never_show_other_invitees_their_notes_or_the_hosts_e_mail(
    client: TestClient, ada: dict
) -> None:
    secret = booking_body('10:00', name='Alan Turing', email='alan@example.com', notes='Enigma rotor settings')
    client.post(BOOK, json=secret)
    mine = client.post(BOOK, json=booking_body('11:00'))
    slots = client.get(SLOTS, params={'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'UTC'})
    listed = client.get('/public/ada/event-types')
    for answer in (mine, slots, listed):
        assert answer.status_code in (200, 201)
        for private in ('Alan', 'alan@example.com', 'Enigma', 'ada@example.com'):
            assert private not in answer.text, (answer.url, private)
