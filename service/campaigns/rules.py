"""Where two modules other branches own (``answers/routes.py``: ``state_of``;
``trust/integrity.py``: ``schools_of``, ``links_of``, ``link_label``) still import these from,
until they import them from their modules; nothing else uses it. (The campaign rules it held
are in ``lifecycle``, ``schools``, ``links``, ``codes``, ``progress`` and ``counted``.)"""

from service.campaigns.lifecycle import state_of
from service.campaigns.links import link_label, links_of
from service.campaigns.schools import schools_of

__all__ = ["link_label", "links_of", "schools_of", "state_of"]
