"""What the consent app announces to the floors above it, inside the deciding transaction."""

from django.dispatch import Signal

# A moderator rejected an attestation; kwargs: attestation, reason, job_ids (the jobs it stopped
# or revoked, with their workspace: [(job_id, workspace_id), ...]).
attestation_rejected = Signal()
