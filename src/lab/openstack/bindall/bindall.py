# A Neutron ML2 mechanism driver for a lab without agents: it binds every port at once, so Nova's fake compute gets
# an ACTIVE port and a fixed IP. No traffic ever flows: the subnet's addresses exist only in Neutron's database.
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api
import sqlalchemy.orm


class BindAllDriver(api.MechanismDriver):
    def initialize(self):
        # With no service plugins loaded, some backrefs (Port.port_forwardings) exist only once the mappers are
        # configured; GET /v2.0/ports fails with an AttributeError before that.
        sqlalchemy.orm.configure_mappers()

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OTHER, {}, status=constants.PORT_STATUS_ACTIVE)
            return
