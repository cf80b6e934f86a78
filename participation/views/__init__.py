"""Participation Management screens, one module per job (job aids: viewing, accepting, withdrawing
and cancelling offers; the My Services filter; creating offers).  Thin: forms validate, selectors
read (and raise ``OfferNotFound`` for an offer out of reach), services write; a refusal of a
service is shown by ``accounts.mixins.DomainErrorsMixin`` or answered 404/403 by the middleware.
"""
