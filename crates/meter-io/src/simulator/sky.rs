//! Weather for the simulated household: the sun's height over the Netherlands (latitude 52.1° N,
//! longitude 5.1° E) and a smooth seasonal outdoor temperature. Only shapes matter here, not
//! meteorological precision.

use super::calendar::Civil;
use std::f64::consts::PI;

const LATITUDE_DEG: f64 = 52.1;
const LONGITUDE_DEG: f64 = 5.1;

/// Sine of the sun's elevation at `unix` (UTC seconds); negative below the horizon.
///
/// Declination by Cooper's formula, hour angle from UTC solar time at the reference longitude
/// (the equation of time, at most 16 minutes, is ignored).
pub(crate) fn sun_elevation_sin(unix: i64) -> f64 {
    let doy = f64::from(Civil::from_local_seconds(unix).day_of_year);
    let declination = (23.44 * PI / 180.0) * (2.0 * PI * (284.0 + doy) / 365.0).sin();
    let utc_hours = unix.rem_euclid(86_400) as f64 / 3600.0;
    let solar_hours = utc_hours + LONGITUDE_DEG / 15.0;
    let hour_angle = (solar_hours - 12.0) * 15.0 * PI / 180.0;
    let lat = LATITUDE_DEG * PI / 180.0;
    lat.sin() * declination.sin() + lat.cos() * declination.cos() * hour_angle.cos()
}

/// Outdoor temperature in °C: a seasonal curve (coldest around 20 January, 2.5 °C daily mean;
/// warmest around 20 July, 18 °C), a daily swing peaking at 15:00 and a per-day offset.
pub(crate) fn outdoor_temp_c(doy: u32, local_hours: f64, day_offset_c: f64) -> f64 {
    let seasonal = 10.25 - 7.75 * (2.0 * PI * (f64::from(doy) - 20.0) / 365.0).cos();
    let daily = 3.5 * (2.0 * PI * (local_hours - 9.0) / 24.0).sin();
    seasonal + daily + day_offset_c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summer_noon_is_high_winter_noon_low_midnight_below() {
        // Solar noon at 5.1° E is 11:39:36 UTC. Expected elevations at 52.1° N:
        // 21 June: 90 - 52.1 + 23.44 = 61.3°, sin = 0.877; 21 December: 90 - 52.1 - 23.44 =
        // 14.5°, sin = 0.250.
        let june = 1_782_041_976; // 2026-06-21T11:39:36Z
        let december = 1_797_853_176; // 2026-12-21T11:39:36Z
        assert!((sun_elevation_sin(june) - 0.877).abs() < 0.01);
        assert!((sun_elevation_sin(december) - 0.250).abs() < 0.01);
        assert!(sun_elevation_sin(june + 12 * 3600) < 0.0);
    }

    #[test]
    fn seasons_have_the_right_sign() {
        assert!(outdoor_temp_c(20, 6.0, 0.0) < 3.0);
        assert!(outdoor_temp_c(201, 15.0, 0.0) > 20.0);
    }
}
