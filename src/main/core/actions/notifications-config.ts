import { z } from 'zod/v3';

/** Desktop banners of the headless daemon (the menu-bar app shows its own). */
export const NotificationsConfigSchema = z
  .object({
    desktop: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        'banners through osascript/terminal-notifier (macOS) or notify-send (Linux): auto = in a desktop session',
      ),
  })
  .strict();

export type NotificationsConfig = z.infer<typeof NotificationsConfigSchema>;
