"""Writes of Participation Management, by job: the Quality Service catalogue (``catalogue``), the
offer use cases (``offers``) and Service Provider Clusters (``clusters``).  Callers use them from
here: ``services.offer_accept(...)``."""

from __future__ import annotations

from accounts.actors import SystemActor
from accounts.services import message_send

from .catalogue import definition_hash, quality_service_load
from .clusters import (
    ClusterInvalid,
    ClusterNotFound,
    cluster_create,
    cluster_delete,
    cluster_providers_add,
    cluster_providers_remove,
    cluster_rename,
)
from .offers import (
    NCD_AUTOMATIC_NOTE,
    OfferCreateResult,
    offer_accept,
    offer_cancel,
    offer_create,
    offer_detail_url,
    offer_reject,
    offer_task_key,
    offer_withdraw,
    offers_accept,
    offers_cancel,
    offers_reject,
    offers_withdraw,
    provider_is_eligible,
)

__all__ = [
    "NCD_AUTOMATIC_NOTE",
    "ClusterInvalid",
    "ClusterNotFound",
    "OfferCreateResult",
    "SystemActor",
    "cluster_create",
    "cluster_delete",
    "cluster_providers_add",
    "cluster_providers_remove",
    "cluster_rename",
    "definition_hash",
    "message_send",
    "offer_accept",
    "offer_cancel",
    "offer_create",
    "offer_detail_url",
    "offer_reject",
    "offer_task_key",
    "offer_withdraw",
    "offers_accept",
    "offers_cancel",
    "offers_reject",
    "offers_withdraw",
    "provider_is_eligible",
    "quality_service_load",
]
