# Builds Octavia's schema from its models: its alembic migrations assume MySQL and fail on PostgreSQL
# ("constraint PRIMARY of relation listener_statistics does not exist"). The lookup tables get the values Octavia's
# own constants list, the DELETED placeholders are added, and alembic is stamped at head so the API accepts it.
# Usage: octavia_db_init.py <octavia.conf>
import sys

from oslo_config import cfg
from octavia.common import config, constants
from octavia.db import api as db_api
from octavia.db import base_models, models

config.init(['--config-file', sys.argv[1]])
engine = db_api.get_engine()
base_models.BASE.metadata.create_all(engine)
session = db_api.get_session()

LOOKUPS = [
    (constants.SUPPORTED_PROVISIONING_STATUSES, models.ProvisioningStatus),
    (constants.SUPPORTED_HEALTH_MONITOR_TYPES, models.HealthMonitorType),
    (constants.SUPPORTED_LB_ALGORITHMS, models.Algorithm),
    (constants.SUPPORTED_PROTOCOLS, models.Protocol),
    (constants.SUPPORTED_OPERATING_STATUSES, models.OperatingStatus),
    (constants.SUPPORTED_SP_TYPES, models.SessionPersistenceType),
    (constants.SUPPORTED_AMPHORA_ROLES, models.AmphoraRoles),
    (constants.SUPPORTED_LB_TOPOLOGIES, models.LBTopology),
    (constants.SUPPORTED_VRRP_AUTH, models.VRRPAuthMethod),
    (constants.SUPPORTED_L7RULE_TYPES, models.L7RuleType),
    (constants.SUPPORTED_L7RULE_COMPARE_TYPES, models.L7RuleCompareType),
    (constants.SUPPORTED_L7POLICY_ACTIONS, models.L7PolicyAction),
    (constants.SUPPORTED_CLIENT_AUTH_MODES, models.ClientAuthenticationMode),
]
with session.begin():
    for names, model in LOOKUPS:
        have = {row.name for row in session.query(model).all()}
        for name in names:
            if name not in have:
                session.add(model(name=name))
with session.begin():
    if not session.query(models.FlavorProfile).filter_by(id=constants.NIL_UUID).first():
        session.add(models.FlavorProfile(id=constants.NIL_UUID, name='DELETED-PLACEHOLDER', provider_name=constants.DELETED, flavor_data='{}'))
        session.flush()
        session.add(models.Flavor(id=constants.NIL_UUID, flavor_profile_id=constants.NIL_UUID, name='DELETED-PLACEHOLDER', enabled=False, description='Placeholder for DELETED LBs with DELETED flavors'))
        session.add(models.AvailabilityZoneProfile(id=constants.NIL_UUID, name='DELETED-PLACEHOLDER', provider_name=constants.DELETED, availability_zone_data='{}'))
        session.flush()
        session.add(models.AvailabilityZone(availability_zone_profile_id=constants.NIL_UUID, name=constants.NIL_UUID, enabled=False, description='Placeholder for DELETED LBs with DELETED availability zones'))
print('octavia schema built')
