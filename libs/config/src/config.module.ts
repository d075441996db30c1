import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Environment, loadEnvironment } from './environment.js';

/** Provides the validated {@link Environment} to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(env?: Environment): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: Environment, useValue: env ?? loadEnvironment() }],
      exports: [Environment],
    };
  }
}
