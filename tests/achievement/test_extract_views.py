"""Administrative Tasks > Extract Loads: staff only; upload, list, progress, errors."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from achievement import services
from achievement.models import ExtractLoad, ExtractStatus
from tests.achievement import factories


@pytest.fixture
def staff_client(client, db):
    client.force_login(factories.staff_user())
    return client


def test_a_user_who_is_not_staff_does_not_find_the_extract_loads_page(client, db):
    client.force_login(User.objects.create_user("practice@example.nhs.net", "a-long-password-123"))
    extract = ExtractLoad.objects.create(file_name="a.csv", file_path="/nope", sha256="a" * 64)

    assert client.get(reverse("achievement:extract_loads")).status_code == 404
    assert client.get(reverse("achievement:extract_load", args=[extract.pk])).status_code == 404
    upload = SimpleUploadedFile("a.csv", b"QUALITY_SERVICE\n")
    assert client.post(reverse("achievement:extract_loads"), {"file": upload}).status_code == 404
    assert ExtractLoad.objects.count() == 1


def test_a_signed_out_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("achievement:extract_loads"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_staff_see_the_extract_loads_tab_and_the_upload_form(staff_client):
    response = staff_client.get(reverse("achievement:extract_loads"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Extract Loads" in html
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert "No extracts have been received yet." in html
    assert 'http-equiv="refresh"' not in html


def test_staff_upload_an_extract_and_it_is_loaded(
    staff_client, qof, fixture_path, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("qof_valid.csv", fixture_path("qof_valid.csv").read_bytes(), "text/csv")

    with django_capture_on_commit_callbacks(execute=True):  # the load runs once the upload commits
        response = staff_client.post(reverse("achievement:extract_loads"), {"file": upload})

    extract = ExtractLoad.objects.get()
    assert extract.status == ExtractStatus.LOADED
    assert extract.created_by.email == "staff@example.nhs.net"
    assert response.url == reverse("achievement:extract_load", args=[extract.pk])
    html = staff_client.get(response.url).content.decode()
    assert f"Extract {extract.pk} received" in html
    assert "nhsuk-tag--green" in html and ">Loaded<" in html

    listing = staff_client.get(reverse("achievement:extract_loads")).content.decode()
    assert "qof_valid.csv" in listing and ">Loaded<" in listing


def test_the_same_file_uploaded_again_is_not_loaded_twice(staff_client, qof, fixture_path):
    first = services.extract_receive(path=fixture_path("qof_valid.csv"))
    upload = SimpleUploadedFile("again.csv", fixture_path("qof_valid.csv").read_bytes())

    response = staff_client.post(reverse("achievement:extract_loads"), {"file": upload}, follow=True)

    assert ExtractLoad.objects.count() == 1
    assert f"This file was received before, as extract {first.pk}" in response.content.decode()


def test_an_empty_upload_is_refused_by_the_form(staff_client):
    response = staff_client.post(reverse("achievement:extract_loads"), {"file": SimpleUploadedFile("e.csv", b"")})

    assert response.status_code == 200
    assert not ExtractLoad.objects.exists()
    assert "empty" in response.content.decode()


def test_a_loading_extract_shows_a_progress_bar_and_the_page_refreshes(staff_client):
    extract = ExtractLoad.objects.create(file_name="national.csv", file_path="/x", sha256="b" * 64, rows_total=3_500_000)
    extract.start_validating()
    extract.save()
    cache.set(services.progress_key(extract.pk), 1_750_000)

    for url in (reverse("achievement:extract_loads"), reverse("achievement:extract_load", args=[extract.pk])):
        html = staff_client.get(url).content.decode()
        progress = f'<progress id="extract-progress-{extract.pk}" value="1750000" max="3500000">50%</progress>'
        assert progress in html
        assert "1,750,000 of 3,500,000 rows" in html
        assert '<meta http-equiv="refresh" content="3">' in html
        assert ">Validating<" in html
        assert "<script" not in html.split("<main", 1)[1]


def test_a_rejected_extract_lists_its_errors_with_line_numbers(staff_client, qof, tmp_path, fixture_path):
    text = fixture_path("qof_valid.csv").read_text().replace("A81002,20240331,AF006,Numerator,50", "A81002,20240331,AF006,Numerator,-50")
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    extract = services.extract_load(extract_id=services.extract_receive(path=bad).pk)

    html = staff_client.get(reverse("achievement:extract_load", args=[extract.pk])).content.decode()

    assert ">Rejected<" in html and "nhsuk-tag--red" in html
    assert "rejected with 1 error: nothing was loaded" in html
    assert "Line 9: VALUE &#x27;-50&#x27; is not a whole number of 0 or more." in html
    assert 'http-equiv="refresh"' not in html
