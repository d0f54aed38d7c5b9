/**
 * Parts of the A/B probes made from given builds (variants, see make-variant.sh) of @es/core and @es/cassandra.
 *
 * variantEntity: the probes' entity class, its topics under `prefix` so that two builds in one process
 * register different ones.
 */
// `any`: a variant is a build imported by path at run time, not the workspace's typed sources.
export function variantEntity(core: any, prefix: string): any {
  const { VersionedEntity, registerTopic } = core;
  class E extends VersionedEntity {
    static readonly Created = registerTopic(`${prefix}.Created`, class extends VersionedEntity.Created {});
    static readonly AttributeChanged = registerTopic(
      `${prefix}.Changed`,
      class extends VersionedEntity.AttributeChanged {},
    );
  }
  registerTopic(`${prefix}.E`, E);
  return E;
}

/** An events strategy of a build of @es/cassandra over fresh tables in `keyspace`, and how to close it. */
export async function freshCassandraEvents(
  cass: any,
  url: string,
  keyspace: string,
): Promise<{ events: any; close: () => Promise<void> }> {
  const settings = new cass.CassandraSettings({ url, keyspace });
  const datastore = new cass.CassandraDatastore({ settings, tables: [cass.CqlIntegerSequencedItem] });
  await datastore.setupConnection();
  await datastore.dropTables();
  await datastore.setupTables();
  const events = new cass.CassandraActiveRecordStrategy({
    activeRecordClass: cass.CqlIntegerSequencedItem,
    datastore,
  });
  return { events, close: () => datastore.close() };
}
