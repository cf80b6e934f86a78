"""Participation Management screens, one module per job (job aids: viewing, accepting, withdrawing
and cancelling offers; the My Services filter; creating offers):

- ``my_services``: My Services, Accept Service / Reject Service (Service Management);
- ``offered_services``: Offered Services, Withdraw Service / Cancel Service (Commissioning
  Management);
- ``create_offers``: Create Offers, its three steps;
- ``show_offer``: an offer's details, for either side;
- ``offer_actions``: the action on ticked offers and its "Are you sure" page, shared by the lists.

Thin: forms validate, selectors read (``OfferNotFound`` / ``NotFound`` for what is out of reach:
404), services write; a state the service refuses is shown by ``accounts.mixins.DomainErrorsMixin``.
"""
