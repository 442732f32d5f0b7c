import { z } from 'zod';

/**
 * zod schemas of the Vast.ai answers we read. Objects drop the fields we do not use, and every string is
 * trimmed because Vast's values can carry stray whitespace and newlines (the CLI strips them too).
 */
const text = z.string().trim();
const num = z.number().nullish();
const flag = z.union([z.boolean(), z.number().transform((n) => n !== 0)]).nullish();

/** One mapped port. HostPort is a string in Vast's answers; a number is accepted and turned into one. */
const portBindingSchema = z.object({
  HostIp: text.nullish(),
  HostPort: z.union([text, z.number().transform(String)]),
});

/** Docker-style `ports`, present only while the instance runs: `{"8188/tcp":[{"HostIp":"0.0.0.0","HostPort":"41188"}]}`. */
export const vastPortsSchema = z.record(z.string(), z.array(portBindingSchema).nullable());

export const vastOfferSchema = z.object({
  id: z.number().int(),
  machine_id: num,
  host_id: num,
  gpu_name: text.nullish(),
  num_gpus: num,
  gpu_ram: num,
  cpu_cores: num,
  cpu_cores_effective: num,
  cpu_ram: num,
  disk_space: num,
  dph_total: z.number(),
  dph_base: num,
  storage_cost: num,
  storage_total_cost: num,
  reliability: num,
  verification: text.nullish(),
  verified: flag,
  rentable: flag,
  rented: flag,
  direct_port_count: num,
  geolocation: text.nullish(),
  inet_up: num,
  inet_down: num,
  cuda_max_good: num,
  public_ipaddr: text.nullish(),
});

export const vastInstanceSchema = z.object({
  id: z.number().int(),
  machine_id: num,
  actual_status: text.nullish(),
  intended_status: text.nullish(),
  cur_state: text.nullish(),
  next_state: text.nullish(),
  status_msg: text.nullish(),
  label: text.nullish(),
  image_uuid: text.nullish(),
  image_runtype: text.nullish(),
  /** `[key, value]` pairs, port keys included. */
  extra_env: z.array(z.array(z.unknown())).nullish(),
  num_gpus: num,
  gpu_name: text.nullish(),
  gpu_ram: num,
  cpu_cores_effective: num,
  cpu_ram: num,
  disk_space: num,
  public_ipaddr: text.nullish(),
  ssh_host: text.nullish(),
  ssh_port: num,
  ports: vastPortsSchema.nullish(),
  geolocation: text.nullish(),
  dph_base: num,
  dph_total: num,
  storage_total_cost: num,
  is_bid: flag,
  start_date: num,
  end_date: num,
  uptime_mins: num,
});

export const vastInstanceListSchema = z.object({
  instances: z.array(vastInstanceSchema),
  next_token: text.nullish(),
  total_instances: num,
});

/** `GET /api/v0/instances/{id}/` answers an object, or `null` when the id is unknown or destroyed. */
export const vastInstanceShowSchema = z.object({ instances: vastInstanceSchema.nullable() });

export const vastOfferListSchema = z.object({ offers: z.array(vastOfferSchema) });

export const vastCreateResultSchema = z.object({ new_contract: z.number().int() });

export const vastSshKeySchema = z.object({
  id: z.number().int(),
  /** The key text is `public_key` in practice and `key` in one published schema. */
  public_key: text.nullish(),
  key: text.nullish(),
});

/** `GET /api/v0/ssh/` answers a bare list or `{ssh_keys: [...]}`. */
export const vastSshKeyListSchema = z.union([z.array(vastSshKeySchema), z.object({ ssh_keys: z.array(vastSshKeySchema) }).transform((o) => o.ssh_keys)]);

export const vastSshKeyCreatedSchema = z.object({ key: vastSshKeySchema.nullish() });

/** The current user. Only these fields are kept: the raw answer may carry the API key and is never logged. */
export const vastUserSchema = z.object({
  id: z.number().int(),
  username: text.nullish(),
  email: text.nullish(),
  credit: num,
  balance: num,
  can_pay: flag,
  email_verified: flag,
});

/** Any Vast body that only reports success. */
export const vastAckSchema = z.object({ success: z.boolean().optional(), msg: text.nullish() });

export type VastOffer = z.infer<typeof vastOfferSchema>;
export type VastInstance = z.infer<typeof vastInstanceSchema>;
export type VastPorts = z.infer<typeof vastPortsSchema>;
export type VastSshKey = z.infer<typeof vastSshKeySchema>;
export type VastUser = z.infer<typeof vastUserSchema>;

/** The value of one variable in an instance's `extra_env`, if set. */
export function instanceEnv(instance: VastInstance, key: string): string | undefined {
  for (const pair of instance.extra_env ?? []) {
    if (pair[0] === key && pair[1] !== undefined && pair[1] !== null) return String(pair[1]).trim();
  }
  return undefined;
}
