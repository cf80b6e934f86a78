"""Declaration Management for an ICB of 400 practices (issue 12): its rows read as values and
rendered by ``accounts.stencils`` give the page the template would give; its Financially Approved
column (issue 14)."""

from __future__ import annotations

import itertools

import pytest
from django.template import engines
from django.urls import reverse

from accounts.stencils import render_rows
from declarations import selectors, services
from declarations.models import DeclarationStatus as S
from declarations.presenters import DeclarationRow, declaration_management_totals

from .conftest import declaration_for, fresh

pytestmark = pytest.mark.django_db

ROW_TEMPLATE = "declarations/_declaration_management_row.html"
MANAGEMENT = reverse("declarations:declaration_management")


def _rows() -> list[DeclarationRow]:
    """A row of every shape (each status, with and without a checkbox), with text that must be
    escaped, amounts missing and present, large and small ids."""
    rows = []
    names = ["O'Brien & Sons <Surgery>", 'The "Densham" Surgery', "Plain Practice"]
    for pk, (status, selectable, name) in enumerate(
        itertools.product(S.values, (True, False), names), start=9_998
    ):
        rows.append(
            DeclarationRow(
                pk=pk * 1000,
                url=f"/declarations/{pk * 1000}/",
                provider=name,
                ods_code="A81001",
                service="QOF— Annual—Quality & Outcomes Framework 2024/25",
                achievement_date="31/03/2025",
                status=S(status).label,
                status_key=status,
                points="1,234.56",
                calculated="£12,345.67",
                declared="-" if pk % 2 else "£1.00",
                approved=None if pk % 3 else "£2.00",
                selectable=selectable,
                action="approve" if selectable else "",
                finance_approved="-",
            )
        )
    return rows


@pytest.mark.parametrize("any_selectable", [True, False])
def test_the_stencil_renders_every_row_as_the_template_does(any_selectable):
    rows = _rows()
    loop = engines["django"].from_string(f'{{% for row in rows %}}{{% include "{ROW_TEMPLATE}" %}}{{% endfor %}}')

    expected = loop.render({"rows": rows, "any_selectable": any_selectable})
    rendered = render_rows(
        ROW_TEMPLATE, rows, shape=("selectable", "status_key"), context={"any_selectable": any_selectable}
    )

    assert rendered == expected
    assert "O&#x27;Brien &amp; Sons &lt;Surgery&gt;" in rendered  # escaped as the template does
    assert rendered.count('name="declarations"') == (len(rows) // 2 if any_selectable else 0)


def test_the_page_lists_the_rows_with_their_checkboxes_tags_and_links(client_for, people, declared):
    html = client_for(people["approver"]).get(MANAGEMENT).content.decode()

    assert f'data-declaration="{declared.pk}"' in html
    assert f'id="declaration-{declared.pk}"' in html
    assert f'href="{reverse("declarations:declaration_detail", args=[declared.pk])}"' in html
    assert "nhsuk-tag--blue" in html and "Awaiting Commissioning Organisation Approval" in html
    assert "\ue000" not in html and "\ue001" not in html


def test_declaration_management_shows_the_financially_approved_amount_and_its_total(client_for, people, declared):
    services.declarations_approve(declaration_ids=[declared.pk], user=people["approver"])
    client = client_for(people["finance"])
    before = client.get(MANAGEMENT).content.decode()
    assert "Financially Approved</th>" in before
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric" data-testid="finance-approved">-</td>' in before

    services.declarations_finance_approve(declaration_ids=[declared.pk], user=people["finance"])
    html = client.get(MANAGEMENT, {"status": S.FINANCIALLY_APPROVED}).content.decode()

    amount = f"£{declared.amount_declared:,.2f}"
    assert f'data-testid="finance-approved">{amount}</td>' in html
    assert f'data-testid="total-finance-approved"><strong>{amount}</strong>' in html


@pytest.fixture
def declared(people, declaration):
    services.declaration_declare(declaration_id=declaration.pk, user=people["declarer"])
    return fresh(declaration)


def test_the_totals_from_the_rows_read_are_the_sql_totals(orgs, people, qof, declared):
    declaration_for(orgs["practice2"], qof)  # not declared: no amount declared
    services.declarations_approve(declaration_ids=[declared.pk], user=people["approver"])
    everything = selectors.declaration_management_list(user=people["finance"])

    values = list(selectors.declaration_management_rows(declarations=everything))

    assert len(values) == 2
    assert declaration_management_totals(values) == selectors.declaration_totals(declarations=everything)
    assert declaration_management_totals([]) == selectors.declaration_totals(declarations=everything.none())
