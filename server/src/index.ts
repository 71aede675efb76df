export { type App, createApp } from './app.ts';
export { CONFIG_VARS, type Config, ConfigError, configTableMarkdown, loadConfig } from './config.ts';
export { createLogger } from './logger.ts';
