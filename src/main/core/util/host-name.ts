import { z } from 'zod/v3';

/** A host name or address as it appears in a `Host` header, without the port (IPv6 in brackets or not). */
export const hostName = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?)$/,
    {
      message: 'must be a host name or address without a port, e.g. studio-1.local',
    },
  );
